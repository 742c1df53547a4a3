/**
 * Plays the planned sessions against the real gateway in real time: each session creates a
 * conversation, then sends its turns as streamed conversation messages (`max_tokens` = the turn's
 * answer length, which the simulator's lorem reply always fills), pausing the turn's think time
 * after each answer. New turns stop at durationS; turns in flight get drainS to finish.
 */
import { z } from "zod";
import { deriveSeed, seededRandom } from "../cluster/rng.js";
import { hasFirstToken } from "../overhead/sse-scan.js";
import type { PlannedSession } from "./plan.js";
import { textOfTokens } from "./text.js";

/** One turn as the client saw it; times from the start of the run, ms. */
export interface RealRequest {
  arrivalMs: number;
  ttftMs: number;
  completedMs: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  ok: boolean;
  error?: string;
}

const Created = z.object({ id: z.string() });
const UsageChunk = z.object({
  usage: z.object({
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
    prompt_tokens_details: z.object({ cached_tokens: z.number() }).nullish(),
  }),
});

function usageOf(sse: string): z.infer<typeof UsageChunk>["usage"] | null {
  for (const line of sse.split("\n").reverse()) {
    if (!line.startsWith("data: {") || !line.includes('"usage"')) continue;
    const parsed = UsageChunk.safeParse(JSON.parse(line.slice("data: ".length)));
    if (parsed.success) return parsed.data.usage;
  }
  return null;
}

/** Runs every planned session; resolves with every turn sent (measured or not). */
export async function runSessions(o: {
  url: string;
  key: string;
  sessions: readonly PlannedSession[];
  durationS: number;
  drainS: number;
  seed: number;
  onTurn?: (r: RealRequest) => void;
}): Promise<RealRequest[]> {
  const start = performance.now();
  const now = (): number => performance.now() - start;
  const abort = new AbortController();
  const requests: RealRequest[] = [];
  const headers = { authorization: `Bearer ${o.key}`, "content-type": "application/json" };

  const turn = async (conversationId: string, content: string, maxTokens: number): Promise<RealRequest> => {
    const arrivalMs = now();
    const r: RealRequest = { arrivalMs, ttftMs: NaN, completedMs: NaN, promptTokens: 0, cachedTokens: 0, completionTokens: 0, ok: false };
    try {
      const res = await fetch(`${o.url}/v1/conversations/${conversationId}/messages`, {
        method: "POST",
        headers,
        body: JSON.stringify({ content, max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } }),
        signal: abort.signal,
      });
      if (res.status !== 200 || res.body === null) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const decoder = new TextDecoder();
      let text = "";
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (Number.isNaN(r.ttftMs) && hasFirstToken(text)) r.ttftMs = now() - arrivalMs;
      }
      r.completedMs = now();
      const usage = usageOf(text);
      if (usage === null) throw new Error("stream ended without a usage chunk");
      r.promptTokens = usage.prompt_tokens;
      r.cachedTokens = usage.prompt_tokens_details?.cached_tokens ?? 0;
      r.completionTokens = usage.completion_tokens;
      r.ok = true;
    } catch (error) {
      r.error = error instanceof Error ? error.message : String(error);
    }
    return r;
  };

  const session = async (s: PlannedSession, index: number): Promise<void> => {
    await new Promise((r) => setTimeout(r, Math.max(0, s.atMs - now())));
    const res = await fetch(`${o.url}/v1/conversations`, {
      method: "POST",
      headers,
      body: JSON.stringify(s.systemPrompt === null ? {} : { system_prompt: s.systemPrompt }),
      signal: abort.signal,
    }).catch(() => null);
    if (res === null || res.status !== 201) return;
    const { id } = Created.parse(await res.json());
    const random = seededRandom(deriveSeed(o.seed, `messages:${index}`));
    for (const t of s.spec.turns) {
      if (now() >= o.durationS * 1000 || abort.signal.aborted) return;
      const r = await turn(id, textOfTokens(t.userTokens, random), t.answerTokens);
      requests.push(r);
      o.onTurn?.(r);
      if (!r.ok) return;
      await new Promise((done) => setTimeout(done, t.thinkMs));
    }
  };

  const all = Promise.all(o.sessions.map((s, i) => session(s, i)));
  const deadline = setTimeout(() => abort.abort(), (o.durationS + o.drainS) * 1000);
  try {
    await all;
  } finally {
    clearTimeout(deadline);
  }
  return requests;
}
