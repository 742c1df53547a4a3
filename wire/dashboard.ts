/**
 * The operator dashboard's admin API (admin role) as the gateway sends it and the `/dashboard`
 * page reads it, plus the moderation endpoints:
 *
 * - `GET /admin/dashboard/history?range=hour|day` — traffic over time from the per-minute
 *   aggregates the metrics object stores in D1.
 * - `GET /admin/dashboard/summary` — per model the ready workers and desired replicas, usage and
 *   top consumers, feedback counts, the latest eval run and the arena's top rows.
 * - `GET /admin/flags` — flagged assistant messages with their context, newest first, paged.
 * - `GET` / `DELETE /admin/conversations/{id}` — any key's conversation, for moderation.
 *
 * Times are Unix seconds unless a field's name says otherwise.
 */
import { z } from "zod";
import { ConversationSchema, MessageStatus } from "./conversations.js";
import { AdminPoolModel } from "./pool-admin.js";
import { UsageCounts, UsageDate } from "./usage.js";

/* ------------------------------------------------------------------ history */

/** `hour`: the last 60 minutes in 1-minute buckets. `day`: the last 24 hours in 5-minute buckets. */
export const DashboardRange = z.enum(["hour", "day"]);
export type DashboardRange = z.infer<typeof DashboardRange>;

export const DashboardHistoryQuery = z.object({ range: DashboardRange.default("hour") }).strict();

/** Bucket width of each range, in seconds. */
export const RANGE_BUCKET_SECONDS: Record<DashboardRange, number> = { hour: 60, day: 300 };
/** Length of each range, in seconds. */
export const RANGE_SECONDS: Record<DashboardRange, number> = { hour: 3600, day: 86_400 };

/**
 * Generations by how they ended (the stored assistant message's status): `complete` and `length`
 * answered, `cancelled` the client stopped or left, `failed` every worker (upstream/GPU) failed.
 */
export const GenerationOutcomes = z.object({
  complete: z.number().int(),
  length: z.number().int(),
  cancelled: z.number().int(),
  failed: z.number().int(),
});
export type GenerationOutcomes = z.infer<typeof GenerationOutcomes>;

/**
 * Requests refused before any generation, by error code: 429s (`rate_limit_exceeded`,
 * `insufficient_quota`) and 503s (`limiter_unavailable`, `no_workers`, `overloaded`,
 * `pool_unavailable`). Client mistakes (400s) and auth failures are not counted by the gateway's
 * metrics and do not appear here.
 */
export const RefusalCounts = z.object({
  rate_limit_exceeded: z.number().int(),
  insufficient_quota: z.number().int(),
  limiter_unavailable: z.number().int(),
  no_workers: z.number().int(),
  overloaded: z.number().int(),
  pool_unavailable: z.number().int(),
});
export type RefusalCounts = z.infer<typeof RefusalCounts>;

/** One bucket of traffic, summed over every model. Buckets without traffic are present with zeros. */
export const HistoryBucket = z.object({
  /** Unix seconds: the bucket's first second (a multiple of bucket_seconds). */
  start: z.number().int(),
  requests: GenerationOutcomes,
  refused: RefusalCounts,
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  /** Retries on another worker (before the first token or mid-stream). */
  failovers: z.number().int(),
  /**
   * Time to first token in milliseconds, estimated from a fixed-bucket histogram (linear within
   * the bucket, as Prometheus's histogram_quantile): null when no generation produced a token.
   */
  ttft_ms: z.object({ count: z.number().int(), p50: z.number().nullable(), p99: z.number().nullable() }),
});
export type HistoryBucket = z.infer<typeof HistoryBucket>;

export const DashboardHistory = z.object({
  object: z.literal("dashboard.history"),
  range: DashboardRange,
  bucket_seconds: z.number().int(),
  /** Unix seconds: first bucket's start, and the end of the last (exclusive; the current, still open bucket is the last). */
  start: z.number().int(),
  end: z.number().int(),
  /** Oldest first, contiguous, RANGE_SECONDS / bucket_seconds of them. */
  buckets: z.array(HistoryBucket),
  /** Models that had traffic in the range. */
  models: z.array(z.string()),
  /** How long per-minute history is kept (DASHBOARD_HISTORY_RETENTION_DAYS). */
  retention_days: z.number().int(),
});
export type DashboardHistory = z.infer<typeof DashboardHistory>;

/* ------------------------------------------------------------------ summary */

/** One key's usage in a window. Usage is kept per UTC day, so windows are whole days. */
export const TopKey = UsageCounts.extend({ key_id: z.string(), key_name: z.string().nullable() });
export type TopKey = z.infer<typeof TopKey>;

/** One end user of a key (a bot's Discord user, a demo visitor) in a window; `user` is never ''. */
export const TopEndUser = TopKey.extend({ user: z.string() });
export type TopEndUser = z.infer<typeof TopEndUser>;

export const UsageWindow = z.object({
  start_date: UsageDate,
  end_date: UsageDate,
  totals: UsageCounts,
  /** Keys by total tokens, most first (at most 10). */
  top_keys: z.array(TopKey),
  /** End users by total tokens, most first (at most 10). */
  top_end_users: z.array(TopEndUser),
  /** Keys and end users that made a request in the window. */
  active_keys: z.number().int(),
  active_end_users: z.number().int(),
});
export type UsageWindow = z.infer<typeof UsageWindow>;

export const FeedbackCounts = z.object({ up: z.number().int(), down: z.number().int(), flagged: z.number().int() });
export type FeedbackCounts = z.infer<typeof FeedbackCounts>;

export const DashboardSummary = z.object({
  object: z.literal("dashboard.summary"),
  /** Unix milliseconds (as /admin/pool's taken_at). */
  generated_at_ms: z.number().int(),
  /** Per model: ready workers and the pool's desired-replica recommendation (as in /admin/pool). */
  models: z.array(AdminPoolModel),
  /** `today`: the current UTC day. `week`: the last 7 UTC days including today. */
  usage: z.object({ today: UsageWindow, week: UsageWindow }),
  /** Feedback rows (one per message and end user): all time, and those changed in the last 24 hours. */
  feedback: z.object({ total: FeedbackCounts, last_day: FeedbackCounts }),
  /** The latest recorded `npm run eval` run, null when none is recorded. */
  eval: z
    .object({
      run_id: z.string(),
      recorded_at: z.number().int(),
      judge_model: z.string(),
      mode: z.enum(["single", "pairwise"]),
      question_set: z.string(),
      question_count: z.number().int(),
      scores: z.record(z.string(), z.number().nullable()),
    })
    .nullable(),
  /** The arena leaderboard's top rows (at most 5), null when no vote is counted yet. */
  arena: z
    .object({
      computed_at: z.number().int(),
      votes_counted: z.number().int(),
      top: z.array(
        z.object({
          model: z.string(),
          rank: z.number().int(),
          rating: z.number(),
          rating_low: z.number(),
          rating_high: z.number(),
          battles: z.number().int(),
        }),
      ),
    })
    .nullable(),
});
export type DashboardSummary = z.infer<typeof DashboardSummary>;

/* --------------------------------------------------------------- moderation */

/** A message as a moderator sees it: who sent it, and every end user's feedback summed. */
export const ModeratedMessage = z.object({
  id: z.string(),
  object: z.literal("conversation.message"),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  status: MessageStatus.nullable(),
  /** The end user who sent the turn; null when the key acted for itself. */
  user: z.string().nullable(),
  created_at: z.number().int(),
  feedback: FeedbackCounts,
});
export type ModeratedMessage = z.infer<typeof ModeratedMessage>;

/** `GET /admin/conversations/{id}`: any key's conversation, with the key it belongs to. */
export const AdminConversation = ConversationSchema.extend({
  key_id: z.string(),
  key_name: z.string().nullable(),
  messages: z.array(ModeratedMessage),
});
export type AdminConversation = z.infer<typeof AdminConversation>;

/** One end user's flag on a message. */
export const FlagReport = z.object({
  /** Who flagged it: the end user, null when the key itself did. */
  user: z.string().nullable(),
  comment: z.string().nullable(),
  flagged_at: z.number().int(),
});
export type FlagReport = z.infer<typeof FlagReport>;

/** A flagged assistant message, its context, and where it lives. */
export const FlaggedMessage = z.object({
  object: z.literal("moderation.flag"),
  message: ModeratedMessage,
  /** Up to FLAG_CONTEXT_MESSAGES messages before and after it in its conversation, in order. */
  before: z.array(ModeratedMessage),
  after: z.array(ModeratedMessage),
  conversation: z.object({
    id: z.string(),
    model: z.string(),
    key_id: z.string(),
    key_name: z.string().nullable(),
    /** The conversation's end user; null when the key acts for itself. */
    user: z.string().nullable(),
    created_at: z.number().int(),
  }),
  /** Every flag on the message, newest first. */
  flags: z.array(FlagReport),
  /** The newest flag's time (the list's order). */
  last_flagged_at: z.number().int(),
});
export type FlaggedMessage = z.infer<typeof FlaggedMessage>;

/** Messages shown on each side of a flagged one. */
export const FLAG_CONTEXT_MESSAGES = 2;

export const FlagListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** The previous page's `next_cursor`. */
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

export const FlagList = z.object({
  object: z.literal("list"),
  data: z.array(FlaggedMessage),
  has_more: z.boolean(),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: z.string().nullable(),
});
export type FlagList = z.infer<typeof FlagList>;
