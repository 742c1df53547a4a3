/**
 * Writes a batch of buffered usage into the ledger (`usage_daily`) exactly once. The limiter
 * Durable Object of each key buffers the usage of its stateless completions and sends it here
 * every few seconds (workers/limits/usage-buffer.ts). A batch is one D1 transaction: every row's
 * counts are added only if the batch's id is not yet in `usage_flushes`, and the id is recorded
 * last, so a batch sent again (the object restarted, or the answer to the first send was lost)
 * adds nothing the second time.
 */

/** One ledger row's increments: requests, tokens and failures of an owner, model and day. */
export interface UsageCounts {
  keyId: string;
  endUser: string;
  model: string;
  day: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  failures: number;
}

/** How long a batch id is remembered; a retry comes within seconds, never a day later. */
const FLUSH_ID_RETENTION_MS = 86_400_000;

/** Applies `rows` as batch `batchId` (a no-op if that batch was applied before). */
export async function applyUsageBatch(db: D1Database, input: { batchId: string; keyId: string; rows: readonly UsageCounts[]; now: number }): Promise<void> {
  const add = db.prepare(
    `INSERT INTO usage_daily (key_id, end_user, model, day, requests, prompt_tokens, completion_tokens, failures)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE NOT EXISTS (SELECT 1 FROM usage_flushes WHERE id = ?9)
     ON CONFLICT (key_id, end_user, model, day) DO UPDATE SET
       requests = requests + excluded.requests, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
       completion_tokens = completion_tokens + excluded.completion_tokens, failures = failures + excluded.failures`,
  );
  await db.batch([
    ...input.rows.map((r) => add.bind(r.keyId, r.endUser, r.model, r.day, r.requests, r.promptTokens, r.completionTokens, r.failures, input.batchId)),
    db.prepare("INSERT INTO usage_flushes (id, key_id, flushed_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING").bind(input.batchId, input.keyId, input.now),
    db.prepare("DELETE FROM usage_flushes WHERE flushed_at < ?1").bind(input.now - FLUSH_ID_RETENTION_MS),
  ]);
}
