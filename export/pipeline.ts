/**
 * One consented conversation in, its training records out, in this order:
 *   turns → feedback filter → HTML→Markdown → scrub → dedupe/length/block-list → split → records.
 * Scrubbing comes before the quality checks so that the block-list, the length and the dedupe key
 * see the text that would be written. Pure except for the DedupeState the caller keeps across an
 * export run (and the Summary it accumulates). End-user ids are not in the input, so never in
 * the output.
 */
import { cleanTurns, DEFAULT_MIN_CHARS, feedbackDropReason, htmlToMarkdown, qualityDropReason, type DedupeState, type FeedbackMode } from "./clean.js";
import { DROP_REASONS, type DropReason, type ExportConversation, type ExportPair } from "./conversation.js";
import { addScrubCounts, emptyScrubCounts, scrubText, type ScrubCounts } from "./scrub.js";
import { toRecord, segmentId, splitOf, type ExportFormat, type ExportRecord } from "./sharegpt.js";
import { splitPairs, type CountTokens } from "./split.js";

export interface ExportOptions {
  /** The model's training window: no segment counts more (see split.ts). */
  maxTokens: number;
  /** Counter for the conversation's model (tokenCounterFor(entry)); the caller picks it per model. */
  countTokens: CountTokens;
  /** Default "sharegpt". */
  format?: ExportFormat;
  /** Default "any". */
  feedback?: FeedbackMode;
  /** Share of conversations in the test split, 0 to 1; default 0 (all train). */
  testFraction?: number;
  /** Default DEFAULT_MIN_CHARS (20). */
  minChars?: number;
  /** Default none. */
  blockList?: readonly string[];
}

export interface ConversationStats {
  /** Pairs that went into records. */
  pairsKept: number;
  /** Messages cut by the turn rules (cancelled/failed replies, strays, unanswered). */
  messagesDropped: number;
  /** Pairs that alone exceed maxTokens. */
  pairsTooLong: number;
  /** Sum of the written segments' token counts. */
  tokens: number;
  /** Replacements made by the scrubber (also counted when the conversation is then dropped). */
  scrub: ScrubCounts;
}

export interface ProcessResult {
  records: ExportRecord[];
  split: "train" | "test";
  /** Null when records were written. */
  dropped: DropReason | null;
  stats: ConversationStats;
}

/** Both sides of every pair through `f`. */
function mapPairs(pairs: readonly ExportPair[], f: (text: string) => string): ExportPair[] {
  return pairs.map((p) => ({ ...p, user: f(p.user), assistant: f(p.assistant) }));
}

export function processConversation(conv: ExportConversation, options: ExportOptions, state: DedupeState): ProcessResult {
  const split = splitOf(conv.id, options.testFraction ?? 0);
  const turns = cleanTurns(conv.messages);
  const stats: ConversationStats = { pairsKept: 0, messagesDropped: turns.droppedMessages, pairsTooLong: 0, tokens: 0, scrub: emptyScrubCounts() };
  const drop = (reason: DropReason): ProcessResult => ({ records: [], split, dropped: reason, stats });

  if (turns.pairs.length === 0) return drop("no_complete_turns");
  const feedback = feedbackDropReason(turns.pairs, options.feedback ?? "any");
  if (feedback !== null) return drop(feedback);

  const scrub = (text: string): string => {
    const result = scrubText(text);
    addScrubCounts(stats.scrub, result.counts);
    return result.text;
  };
  const pairs = mapPairs(mapPairs(turns.pairs, htmlToMarkdown), scrub);
  // The system prompt is written with every record, so it is scrubbed too (it is operator text,
  // not HTML from a model, so it is not converted).
  const system = conv.system_prompt === null ? null : scrub(conv.system_prompt);

  const quality = qualityDropReason(pairs, system, { minChars: options.minChars ?? DEFAULT_MIN_CHARS, blockList: options.blockList ?? [] }, state);
  if (quality !== null) return drop(quality);

  const parts = splitPairs(pairs, { maxTokens: options.maxTokens, countTokens: options.countTokens, system });
  stats.pairsTooLong = parts.droppedTooLong;
  if (parts.segments.length === 0) return drop("too_long");
  stats.pairsKept = parts.segments.reduce((n, s) => n + s.length, 0);
  stats.tokens = parts.tokens.reduce((n, t) => n + t, 0);
  const format = options.format ?? "sharegpt";
  const records = parts.segments.map((segment, i) => toRecord(format, { id: segmentId(conv.id, i), model: conv.model, system, pairs: segment }));
  return { records, split, dropped: null, stats };
}

/** What an export run did, for the CLI to print. */
export interface Summary {
  conversationsRead: number;
  conversationsKept: number;
  droppedByReason: Record<DropReason, number>;
  messagesDropped: number;
  pairsKept: number;
  pairsTooLong: number;
  segmentsWritten: { train: number; test: number };
  tokensWritten: number;
  scrub: ScrubCounts;
}

export function createSummary(): Summary {
  const droppedByReason = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  return {
    conversationsRead: 0,
    conversationsKept: 0,
    droppedByReason,
    messagesDropped: 0,
    pairsKept: 0,
    pairsTooLong: 0,
    segmentsWritten: { train: 0, test: 0 },
    tokensWritten: 0,
    scrub: emptyScrubCounts(),
  };
}

/** Adds one conversation's result to `summary` (mutates and returns it). */
export function addToSummary(summary: Summary, result: ProcessResult): Summary {
  summary.conversationsRead++;
  if (result.dropped === null) summary.conversationsKept++;
  else summary.droppedByReason[result.dropped]++;
  summary.messagesDropped += result.stats.messagesDropped;
  summary.pairsKept += result.stats.pairsKept;
  summary.pairsTooLong += result.stats.pairsTooLong;
  summary.segmentsWritten[result.split] += result.records.length;
  summary.tokensWritten += result.stats.tokens;
  addScrubCounts(summary.scrub, result.stats.scrub);
  return summary;
}
