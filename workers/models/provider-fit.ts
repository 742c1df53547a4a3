/**
 * Fitting a conversation for a provider model. The provider owns its template and tokenizer, so
 * the gateway only estimates: each message's text plus a fixed per-message overhead (OpenAI
 * documents about 3 tokens of framing per message and 3 to prime the reply). The estimate
 * decides the default max_tokens, what truncation drops, and what admission reserves; usage is
 * settled to the provider's own count afterwards. Pure: no I/O.
 */
import type { ChatMessage } from "../../wire/openai.js";
import type { ChatConversation } from "../prompt/index.js";

export const MESSAGE_OVERHEAD_TOKENS = 4;
export const REPLY_PRIMING_TOKENS = 3;

export interface ProviderFitInput {
  conversation: ChatConversation;
  contextLength: number;
  maxTokens: number | null;
  defaultMaxTokens: number;
  truncate: boolean;
  countTokens(text: string): number;
}

export type ProviderFit =
  | { ok: true; messages: ChatMessage[]; promptTokens: number; maxTokens: number; droppedMessages: number }
  | { ok: false; message: string };

/** The messages to send (system first), dropping the oldest whole turns only when `truncate`. */
export function fitProviderMessages(input: ProviderFitInput): ProviderFit {
  const { conversation, contextLength } = input;
  const cost = (text: string): number => input.countTokens(text) + MESSAGE_OVERHEAD_TOKENS;
  const system = conversation.system;
  const head = REPLY_PRIMING_TOKENS + (system === null ? 0 : cost(system));
  const turns = conversation.messages;
  // Walking from the newest message back, in whole turns (user + assistant), as far as they fit.
  const needed = (room: number): number => input.maxTokens ?? Math.min(input.defaultMaxTokens, Math.max(1, room));
  let start = turns.length - 1;
  let used = head + cost(turns[start]!.content);
  const total = turns.reduce((sum, m) => sum + cost(m.content), head);
  if (!input.truncate) {
    const maxTokens = needed(contextLength - total);
    if (total + maxTokens > contextLength) return { ok: false, message: overflowMessage(contextLength, total, maxTokens) };
    return { ok: true, messages: withSystem(system, turns), promptTokens: total, maxTokens, droppedMessages: 0 };
  }
  // Without max_tokens, history makes room for the whole default answer while it can be dropped.
  const budget = contextLength - (input.maxTokens ?? input.defaultMaxTokens);
  while (start >= 2) {
    const turn = cost(turns[start - 2]!.content) + cost(turns[start - 1]!.content);
    if (used + turn > budget) break;
    used += turn;
    start -= 2;
  }
  const maxTokens = needed(contextLength - used);
  if (used + maxTokens > contextLength) return { ok: false, message: overflowMessage(contextLength, used, maxTokens) };
  return { ok: true, messages: withSystem(system, turns.slice(start)), promptTokens: used, maxTokens, droppedMessages: start };
}

function withSystem(system: string | null, turns: readonly ChatMessage[]): ChatMessage[] {
  return system === null ? [...turns] : [{ role: "system", content: system }, ...turns];
}

function overflowMessage(contextLength: number, promptTokens: number, maxTokens: number): string {
  return (
    `This model's maximum context length is ${contextLength} tokens. However, you requested about ` +
    `${promptTokens + maxTokens} tokens (about ${promptTokens} in the messages, ${maxTokens} in the completion). ` +
    "Please reduce the length of the messages or completion."
  );
}
