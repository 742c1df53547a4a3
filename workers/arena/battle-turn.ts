/**
 * One turn of an arena battle: the same question to both sides at once. Each side is an ordinary
 * conversation turn (workers/chat/conversation-turn.ts) — limits, usage, the context window and
 * storage behave as everywhere else — run as a streamed turn whose chunks are read here and
 * relayed to the client as one stream naming each delta's slot (or gathered into one JSON object).
 *
 * Both generations are admitted before either starts, so a caller the limits cannot afford twice
 * is refused whole. A side that fails ends the battle (it cannot be voted); if both fail before
 * their first token, the turn is an ordinary error response and nothing of it is stored — on the
 * first turn not even the battle.
 */
import type { Context } from "hono";
import { createParser } from "eventsource-parser";
import { z } from "zod";
import type { ArenaReply, ArenaSlot, ArenaStreamEvent, ArenaTurnResult } from "../../wire/arena.js";
import { TURN_HEADERS } from "../../wire/conversations.js";
import type { ErrorBody, Sampling, Usage } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { admit, type AdmittedRequest } from "../chat/admission.js";
import { runConversationTurn, turnEstimate } from "../chat/conversation-turn.js";
import { getConfig } from "../config.js";
import type { Owner } from "../db/conversation-store.js";
import type { ArenaBattleRow } from "../db/schema.js";
import { toGatewayError } from "../errors.js";
import { SseWriter } from "../http/sse-writer.js";
import { deleteBattle, endBattleTurn } from "./battle-store.js";
import { battleView } from "./battle-view.js";

/** Names the battle a streamed turn belongs to, as x-conversation-id does for a conversation turn. */
export const BATTLE_HEADER = "x-arena-battle-id";

const SLOTS: readonly ArenaSlot[] = ["a", "b"];

export type BattleAdmissions = Record<ArenaSlot, { requestId: string; admission: AdmittedRequest }>;

/**
 * Reserves both generations. A battle costs two: each side is admitted like a conversation turn,
 * under its own request id; if the second is refused, the first reservation is released.
 */
export async function admitBattleTurn(c: Context<AppEnv>, owner: Owner, content: string, sampling: Sampling): Promise<BattleAdmissions> {
  const estimate = turnEstimate(getConfig(c.env), content, sampling);
  const ids = { a: `${c.var.requestId}-a`, b: `${c.var.requestId}-b` };
  const a = await admit(c, owner, estimate, null, ids.a);
  try {
    const b = await admit(c, owner, estimate, null, ids.b);
    return { a: { requestId: ids.a, admission: a }, b: { requestId: ids.b, admission: b } };
  } catch (err) {
    c.executionCtx.waitUntil(a.settle(null));
    throw err;
  }
}

export function releaseAdmissions(c: Context<AppEnv>, admissions: BattleAdmissions): void {
  for (const slot of SLOTS) c.executionCtx.waitUntil(admissions[slot].admission.settle(null));
}

export interface BattleTurn {
  battle: ArenaBattleRow;
  owner: Owner;
  content: string;
  sampling: Sampling;
  admissions: BattleAdmissions;
  /** If neither side produces anything, remove the battle too (it was created for this turn). */
  firstTurn: boolean;
}

type SideStart = { response: Response } | { error: ErrorBody["error"] };

// The chunk fields this relay reads from a side's own stream (written by workers/chat/chunk-stream.ts).
const SideChunk = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().optional() }), finish_reason: z.enum(["stop", "length"]).nullable() })),
  usage: z.custom<Usage>((v) => typeof v === "object").nullish(),
});
const SideError = z.object({ error: z.custom<ErrorBody["error"]>((v) => typeof v === "object" && v !== null) });

function failedReply(error: ErrorBody["error"], messageId: string | null = null, content = ""): ArenaReply {
  return { message_id: messageId, content, status: "failed", finish_reason: null, usage: null, error };
}

/**
 * Reads one side's chunk stream to its end, passing each text delta on. If passing one on fails
 * (the client left), the side's stream is cancelled, which stops its generation and stores what
 * it had as a cancelled reply.
 */
async function readSide(response: Response, onDelta: (text: string) => Promise<void>): Promise<ArenaReply> {
  const messageId = response.headers.get(TURN_HEADERS.assistantMessageId);
  let content = "";
  let finishReason: "stop" | "length" | null = null;
  let usage: Usage | null = null;
  let error: ErrorBody["error"] | null = null;
  const pending: string[] = [];
  const parser = createParser({
    onEvent(event) {
      if (event.data === "[DONE]") return;
      const json: unknown = JSON.parse(event.data);
      if (event.event === "error") {
        error = SideError.parse(json).error;
        return;
      }
      const chunk = SideChunk.parse(json);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) return;
      if (choice.delta.content) pending.push(choice.delta.content);
      if (choice.finish_reason) finishReason = choice.finish_reason;
    },
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
      const text = pending.splice(0).join("");
      if (text === "") continue;
      content += text;
      await onDelta(text);
    }
  } catch {
    await reader.cancel().catch(() => undefined);
    return { message_id: messageId, content, status: "cancelled", finish_reason: null, usage: null, error: null };
  }
  if (error) return failedReply(error, messageId, content);
  const status = finishReason === "length" ? "length" : finishReason === "stop" ? "complete" : "cancelled";
  return { message_id: messageId, content, status, finish_reason: finishReason, usage, error: null };
}

async function startSides(c: Context<AppEnv>, turn: BattleTurn): Promise<Record<ArenaSlot, SideStart>> {
  // Each side streams from its own turn, whatever the client asked: this relay reads the chunks.
  const sampling: Sampling = { ...turn.sampling, stream: true, stream_options: { include_usage: true } };
  const conversationOf = { a: turn.battle.conversationA, b: turn.battle.conversationB };
  const settled = await Promise.allSettled(
    SLOTS.map((slot) =>
      runConversationTurn(c, {
        conversationId: conversationOf[slot],
        owner: turn.owner,
        sampling,
        userContent: turn.content,
        replacesUserMessageId: null,
        arena: turn.admissions[slot],
      }),
    ),
  );
  const [a, b] = settled as [PromiseSettledResult<Response>, PromiseSettledResult<Response>];
  if (a.status === "rejected" && b.status === "rejected") {
    // Nothing was generated and each side undid its own turn: an ordinary error, nothing stored.
    if (turn.firstTurn) await deleteBattle(c.env.DB, turn.battle).catch((err: unknown) => console.error("could not remove a battle that never started", err));
    throw a.reason;
  }
  const side = (result: PromiseSettledResult<Response>): SideStart =>
    result.status === "fulfilled" ? { response: result.value } : { error: toGatewayError(result.reason).toBody().error };
  return { a: side(a), b: side(b) };
}

function runSide(start: SideStart, onDelta: (text: string) => Promise<void>): Promise<ArenaReply> {
  return "error" in start ? Promise.resolve(failedReply(start.error)) : readSide(start.response, onDelta);
}

/** Runs the turn on both sides and answers as the client asked: one JSON object, or one SSE stream. */
export async function runBattleTurn(c: Context<AppEnv>, turn: BattleTurn): Promise<Response> {
  const starts = await startSides(c, turn);
  const headers = { ...turn.admissions.b.admission.headers, [BATTLE_HEADER]: turn.battle.id };
  const finish = async (replies: ArenaReply[]) =>
    endBattleTurn(c.env.DB, turn.battle, { failed: replies.some((r) => r.status === "failed"), now: Date.now() });

  if (!turn.sampling.stream) {
    const [a, b] = await Promise.all(SLOTS.map((slot) => runSide(starts[slot], async () => undefined))) as [ArenaReply, ArenaReply];
    const battle = await finish([a, b]);
    const body: ArenaTurnResult = { ...battleView(battle, null), replies: { a, b } };
    return c.json(body, 200, headers);
  }

  const stream = new SseWriter(getConfig(c.env).clientStallTimeoutMs);
  const send = (event: ArenaStreamEvent) => stream.data(event);
  await send({ type: "battle", battle: battleView(turn.battle, null) });
  const relay = async () => {
    const replies = await Promise.all(
      SLOTS.map(async (slot) => {
        const reply = await runSide(starts[slot], (content) => send({ type: "delta", slot, content }));
        await send({ type: "reply", slot, reply }).catch(() => undefined);
        return reply;
      }),
    );
    // Stored before the last frames, so a client that sees the end can vote at once.
    const battle = await finish(replies);
    try {
      await send({ type: "battle", battle: battleView(battle, null) });
      await stream.write("data: [DONE]\n\n");
      await stream.close();
    } catch {
      stream.abort();
    }
  };
  c.executionCtx.waitUntil(relay().catch((err: unknown) => console.error("arena relay failed", err)));
  return new Response(stream.readable, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers },
  });
}
