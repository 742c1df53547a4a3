/** Seeds conversations with messages straight in D1, for routes that read stored turns (no GPU needed). */
import { env } from "cloudflare:test";
import { z } from "zod";
import { call } from "./helpers.js";

export interface SeededMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
}

/** Creates a conversation through the API and appends `turns` (user, assistant, …) in D1. */
export async function seedConversationWith(
  key: string,
  turns: readonly string[],
  body: Record<string, unknown> = {},
): Promise<{ id: string; messages: SeededMessage[] }> {
  const res = await call("POST", "/v1/conversations", { key, body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  const { id } = z.object({ id: z.string() }).parse(await res.json());
  const messages = await appendMessages(id, turns, 0);
  return { id, messages };
}

/** Appends messages after `afterSeq`, alternating user/assistant from the parity of their seq. */
export async function appendMessages(conversationId: string, contents: readonly string[], afterSeq: number): Promise<SeededMessage[]> {
  const messages: SeededMessage[] = [];
  const statements = contents.map((content, i) => {
    const seq = afterSeq + i + 1;
    const role = seq % 2 === 1 ? "user" : "assistant";
    const id = `msg_${crypto.randomUUID()}`;
    messages.push({ id, role, content });
    return env.DB.prepare(
      "INSERT INTO messages (id, conversation_id, seq, role, content, status, end_user, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7)",
    ).bind(id, conversationId, seq, role, content, role === "assistant" ? "complete" : null, Date.now());
  });
  if (statements.length > 0) await env.DB.batch(statements);
  return messages;
}
