/**
 * Splitting a conversation's kept pairs into training segments that fit the model's context
 * window, counted as training renders them, and the token counters that do the counting. Pure.
 */
import type { ModelEntry } from "../workers/models/model-config.js";
import { isPoolEntry } from "../workers/models/model-config.js";
import { MESSAGE_OVERHEAD_TOKENS } from "../workers/models/provider-fit.js";
import { countPieces, tokenizerEncoder, type PromptPiece } from "../workers/prompt/pieces.js";
import { getTokenizer, promptRuntime, type PromptRuntime } from "../workers/prompt/index.js";
import type { ExportPair, SegmentMessage } from "./conversation.js";

/**
 * Tokens of a segment rendered exactly as training renders it: system block (a leading "system"
 * message; none = the template's default), every turn, and the final answer with its end of
 * sequence.
 */
export type CountTokens = (messages: readonly SegmentMessage[]) => number;

export interface SplitOptions {
  maxTokens: number;
  countTokens: CountTokens;
  /** The conversation's system prompt, rendered at the head of every segment. */
  system: string | null;
}

export interface SplitResult {
  /** Segments in order; together they hold every kept pair except the dropped ones, once each. */
  segments: ExportPair[][];
  /** countTokens of each segment, aligned with `segments`. */
  tokens: number[];
  /** Pairs that alone exceed maxTokens, left out. */
  droppedTooLong: number;
}

/** A segment's messages as the counter and the records see them: system first, then the pairs. */
export function segmentMessages(system: string | null, pairs: readonly ExportPair[]): SegmentMessage[] {
  const messages: SegmentMessage[] = system === null ? [] : [{ role: "system", content: system }];
  for (const p of pairs) messages.push({ role: "user", content: p.user }, { role: "assistant", content: p.assistant });
  return messages;
}

/**
 * Greedy, in order: a pair joins the current segment while the segment still fits, else the
 * segment is closed and a new one starts with it. A pair that does not fit even alone is DROPPED
 * (and counted), not truncated: a cut answer would teach the model to stop mid-sentence, and a
 * cut question would train an answer to something never asked. The segments before and after it
 * stay separate, since joining them would make the model answer around a missing exchange.
 */
export function splitPairs(pairs: readonly ExportPair[], options: SplitOptions): SplitResult {
  const { maxTokens, countTokens, system } = options;
  const result: SplitResult = { segments: [], tokens: [], droppedTooLong: 0 };
  let current: ExportPair[] = [];
  let currentTokens = 0;
  const close = (): void => {
    if (current.length === 0) return;
    result.segments.push(current);
    result.tokens.push(currentTokens);
    current = [];
    currentTokens = 0;
  };
  for (const pair of pairs) {
    if (current.length > 0) {
      const joined = countTokens(segmentMessages(system, [...current, pair]));
      if (joined <= maxTokens) {
        current.push(pair);
        currentTokens = joined;
        continue;
      }
      close();
    }
    const alone = countTokens(segmentMessages(system, [pair]));
    if (alone > maxTokens) {
      result.droppedTooLong++;
      continue; // current is empty here, so what follows starts a new segment
    }
    current = [pair];
    currentTokens = alone;
  }
  close();
  return result;
}

// ─── Counters ──────────────────────────────────────────────────────────────────────────────────

/**
 * A pool model's counter, through the gateway's own prompt family: the head and every message's
 * pieces as `family.turn` lays them out when the message is complete. That is the serving
 * rendering (renderPromptTokens) with the open "ASSISTANT:" turn replaced by the closed final
 * answer — for vicuna_v1.1 "<s>{system} USER: {u} ASSISTANT: {a}</s>…USER: {u} ASSISTANT: {a}</s>",
 * FastChat's training text — so the count includes the last answer and its EOS (llama-2-chat also
 * counts its " </s><s>" turn end, as FastChat renders it). Texts are neutralised as at serving.
 */
export function poolTokenCounter(rt: PromptRuntime): CountTokens {
  const encode = tokenizerEncoder(rt.tokenizer);
  return (messages) => countPieces(rt.tokenizer, trainingPieces(rt, messages), encode, null);
}

/** The pieces of a finished conversation (ending with an answer), as training renders them. */
export function trainingPieces(rt: PromptRuntime, messages: readonly SegmentMessage[]): PromptPiece[] {
  const { family } = rt;
  const systemText = messages[0]?.role === "system" ? messages[0].content : null;
  const turns = messages.filter((m): m is SegmentMessage & { role: "user" | "assistant" } => m.role !== "system");
  const systemInEffect = systemText ?? family.defaultSystem;
  const system = systemInEffect === null ? null : family.neutralise(systemInEffect);
  const texts = turns.map((m) => family.neutralise(m.content));
  const pieces = family.head(system);
  turns.forEach((m, index) => {
    pieces.push(...family.turn({ role: m.role, text: texts[index]!, index, previous: index === 0 ? null : texts[index - 1]!, system }));
  });
  return pieces;
}

/** The gateway's rough estimate for text without a tokenizer (workers/chat/admission.ts). */
const CHARS_PER_TOKEN = 4;

/**
 * A provider model's counter. Its template is the provider's, so this is an estimate as the
 * gateway makes for it (workers/models/provider-fit.ts): each message's text with the entry's
 * `tokenizer` if it names one, else about 4 characters a token, plus MESSAGE_OVERHEAD_TOKENS (4)
 * per message for the provider's framing. Leave headroom in maxTokens for these models.
 */
export function providerTokenCounter(tokenizerId: ModelEntry["tokenizer"]): CountTokens {
  const tokenizer = tokenizerId === undefined ? null : getTokenizer(tokenizerId);
  const count = (text: string): number => (tokenizer === null ? Math.ceil(text.length / CHARS_PER_TOKEN) : tokenizer.encode(text).length);
  return (messages) => messages.reduce((sum, m) => sum + count(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);
}

/** The counter for a MODELS entry: the real rendering for pool models, an estimate for providers. */
export function tokenCounterFor(entry: ModelEntry): CountTokens {
  if (isPoolEntry(entry)) return poolTokenCounter(promptRuntime(entry.template, entry.tokenizer));
  return providerTokenCounter(entry.tokenizer);
}
