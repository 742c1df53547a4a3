/**
 * Training records, one per segment, and the deterministic train/test split. Pure.
 *
 * "sharegpt" — the ShareGPT layout FastChat, LLaMA-Factory and Axolotl read:
 *   {"id":"<conv>_<i>","model":"…","system":"…","conversations":[{"from":"human","value":"…"},{"from":"gpt","value":"…"}]}
 * The system prompt is a top-level "system" field (absent when the conversation had none), not a
 * {"from":"system"} message: LLaMA-Factory maps it with dataset_info
 *   "columns": {"messages": "conversations", "system": "system"},
 *   "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
 * It could also read a leading system message (its "system_tag"), but a column keeps
 * `conversations` strictly alternating human/gpt from the first entry, which every ShareGPT reader
 * accepts (FastChat's train.py asserts it; Axolotl: field_messages: conversations,
 * message_property_mappings {role: from, content: value}, roles {user: [human], assistant: [gpt]},
 * and extra top-level fields such as "system" and "model" are ignored by readers that do not map them).
 *
 * "openai" — OpenAI's fine-tuning chat layout: {"messages":[{"role":"system"|"user"|"assistant","content":"…"}]},
 * system first when there is one. Nothing else, as that format takes no extra keys.
 */
import { createHash } from "node:crypto";
import type { ExportPair } from "./conversation.js";

export type ExportFormat = "sharegpt" | "openai";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["sharegpt", "openai"];

export interface ShareGptTurn {
  from: "human" | "gpt";
  value: string;
}

export interface ShareGptRecord {
  id: string;
  model: string;
  system?: string;
  conversations: ShareGptTurn[];
}

export interface OpenAiMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface OpenAiRecord {
  messages: OpenAiMessage[];
}

export type ExportRecord = ShareGptRecord | OpenAiRecord;

/** A segment's id: the conversation id and the index among its written segments, from 0. */
export function segmentId(conversationId: string, index: number): string {
  return `${conversationId}_${index}`;
}

export interface SegmentInput {
  id: string;
  model: string;
  /** Null or "": no system prompt is written. */
  system: string | null;
  pairs: readonly ExportPair[];
}

export function toShareGpt(segment: SegmentInput): ShareGptRecord {
  const record: ShareGptRecord = { id: segment.id, model: segment.model, conversations: [] };
  if (segment.system !== null && segment.system !== "") record.system = segment.system;
  for (const p of segment.pairs) record.conversations.push({ from: "human", value: p.user }, { from: "gpt", value: p.assistant });
  return record;
}

export function toOpenAi(segment: SegmentInput): OpenAiRecord {
  const messages: OpenAiMessage[] = segment.system === null || segment.system === "" ? [] : [{ role: "system", content: segment.system }];
  for (const p of segment.pairs) messages.push({ role: "user", content: p.user }, { role: "assistant", content: p.assistant });
  return { messages };
}

export function toRecord(format: ExportFormat, segment: SegmentInput): ExportRecord {
  return format === "openai" ? toOpenAi(segment) : toShareGpt(segment);
}

/**
 * "test" for about `testFraction` of conversations, from a hash of the id alone: the same
 * conversation lands in the same split on every run and all its segments together, so a test
 * segment never shares a conversation with a training one. 0 → all train, 1 → all test.
 */
export function splitOf(conversationId: string, testFraction: number): "train" | "test" {
  if (!(testFraction >= 0 && testFraction <= 1)) throw new RangeError(`testFraction must be between 0 and 1, got ${testFraction}`);
  const bucket = Number.parseInt(createHash("sha256").update(conversationId).digest("hex").slice(0, 8), 16) / 2 ** 32;
  return bucket < testFraction ? "test" : "train";
}
