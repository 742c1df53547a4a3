/**
 * The dashboard API (`GET /admin/dashboard/history`, `GET /admin/dashboard/summary`) as the page
 * reads it, with zod's `mini` build, checked against wire/dashboard.ts at compile time (SameShape).
 */
import * as z from "zod/mini";
import type { DashboardHistory, DashboardSummary } from "../../../wire/dashboard.js";
import type { SameShape } from "../../../wire/openai.js";
import { PoolModelSchema } from "./pool-schemas.js";

export type { DashboardRange, HistoryBucket } from "../../../wire/dashboard.js";

const int = z.number();
const Range = z.enum(["hour", "day"]);

const HistoryBucketSchema = z.object({
  start: int,
  requests: z.object({ complete: int, length: int, cancelled: int, failed: int }),
  refused: z.object({
    rate_limit_exceeded: int,
    insufficient_quota: int,
    limiter_unavailable: int,
    no_workers: int,
    overloaded: int,
    pool_unavailable: int,
  }),
  prompt_tokens: int,
  completion_tokens: int,
  failovers: int,
  ttft_ms: z.object({ count: int, p50: z.nullable(z.number()), p99: z.nullable(z.number()) }),
});

export const DashboardHistorySchema = z.object({
  object: z.literal("dashboard.history"),
  range: Range,
  bucket_seconds: int,
  start: int,
  end: int,
  buckets: z.array(HistoryBucketSchema),
  models: z.array(z.string()),
  retention_days: int,
});

const Counts = { requests: int, prompt_tokens: int, completion_tokens: int, total_tokens: int, failures: int };
const TopKeySchema = z.object({ ...Counts, key_id: z.string(), key_name: z.nullable(z.string()) });
const Day = z.string();

const UsageWindowSchema = z.object({
  start_date: Day,
  end_date: Day,
  totals: z.object(Counts),
  top_keys: z.array(TopKeySchema),
  top_end_users: z.array(z.object({ ...Counts, key_id: z.string(), key_name: z.nullable(z.string()), user: z.string() })),
  active_keys: int,
  active_end_users: int,
});

const FeedbackCountsSchema = z.object({ up: int, down: int, flagged: int });

export const DashboardSummarySchema = z.object({
  object: z.literal("dashboard.summary"),
  generated_at_ms: int,
  models: z.array(PoolModelSchema),
  usage: z.object({ today: UsageWindowSchema, week: UsageWindowSchema }),
  feedback: z.object({ total: FeedbackCountsSchema, last_day: FeedbackCountsSchema }),
  eval: z.nullable(
    z.object({
      run_id: z.string(),
      recorded_at: int,
      judge_model: z.string(),
      mode: z.enum(["single", "pairwise"]),
      question_set: z.string(),
      question_count: int,
      scores: z.record(z.string(), z.nullable(z.number())),
    }),
  ),
  arena: z.nullable(
    z.object({
      computed_at: int,
      votes_counted: int,
      top: z.array(z.object({ model: z.string(), rank: int, rating: z.number(), rating_low: z.number(), rating_high: z.number(), battles: int })),
    }),
  ),
});

export type Summary = z.infer<typeof DashboardSummarySchema>;
export type UsageWindow = Summary["usage"]["today"];
export type FeedbackCounts = Summary["feedback"]["total"];

export const DASHBOARD_SHAPES_MATCH: [SameShape<z.infer<typeof DashboardHistorySchema>, DashboardHistory>, SameShape<Summary, DashboardSummary>] = [true, true];
