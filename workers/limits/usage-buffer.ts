/**
 * The usage of a key's stateless completions, buffered in its limiter's SQLite storage until it
 * is written to the D1 ledger in a batch. Adding is one local upsert in the same commit as the
 * settlement that reports it, so the usage is as durable as the settlement: an object restart
 * loses nothing. Rows are sealed into a batch with an id before they are sent, and deleted only
 * once D1 has the batch; a batch sent twice counts once (workers/db/usage-batches.ts). Rows
 * added while a batch is in flight go to the open batch ('').
 */
import type { UsageCounts } from "../db/usage-batches.js";
import type { UsageEntry } from "./types.js";

/** Rows per D1 batch: one statement each, well under D1's limits per batch. */
export const MAX_BATCH_ROWS = 100;

const OPEN = "";

export interface SealedBatch {
  batchId: string;
  keyId: string;
  rows: UsageCounts[];
}

export class UsageBuffer {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS usage_pending (
      batch TEXT NOT NULL, key_id TEXT NOT NULL, end_user TEXT NOT NULL, model TEXT NOT NULL, day TEXT NOT NULL,
      requests INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, failures INTEGER NOT NULL,
      PRIMARY KEY (batch, key_id, end_user, model, day))`);
  }

  add(e: UsageEntry): void {
    this.sql.exec(
      `INSERT INTO usage_pending (batch, key_id, end_user, model, day, requests, prompt_tokens, completion_tokens, failures)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT (batch, key_id, end_user, model, day) DO UPDATE SET requests = requests + 1,
         prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens,
         failures = failures + excluded.failures`,
      OPEN, e.keyId, e.endUser, e.model, e.day, e.promptTokens, e.completionTokens, e.failed ? 1 : 0,
    );
  }

  isEmpty(): boolean {
    return this.sql.exec("SELECT 1 FROM usage_pending LIMIT 1").toArray().length === 0;
  }

  /**
   * The batch to send next: one sealed earlier and not yet confirmed (sent again as it was), or
   * up to MAX_BATCH_ROWS open rows sealed now under `newId`; null when nothing is buffered.
   */
  nextBatch(newId: string): SealedBatch | null {
    const sealed = this.sql.exec("SELECT batch FROM usage_pending WHERE batch <> ? LIMIT 1", OPEN).toArray()[0];
    let batchId: string;
    if (sealed !== undefined) batchId = String(sealed.batch);
    else {
      this.sql.exec(
        `UPDATE usage_pending SET batch = ? WHERE rowid IN (SELECT rowid FROM usage_pending WHERE batch = ? LIMIT ${MAX_BATCH_ROWS})`,
        newId, OPEN,
      );
      batchId = newId;
    }
    const rows = this.sql
      .exec(
        `SELECT key_id, end_user, model, day, requests, prompt_tokens, completion_tokens, failures
         FROM usage_pending WHERE batch = ?`,
        batchId,
      )
      .toArray()
      .map(
        (r): UsageCounts => ({
          keyId: String(r.key_id),
          endUser: String(r.end_user),
          model: String(r.model),
          day: String(r.day),
          requests: Number(r.requests),
          promptTokens: Number(r.prompt_tokens),
          completionTokens: Number(r.completion_tokens),
          failures: Number(r.failures),
        }),
      );
    if (rows.length === 0) return null;
    return { batchId, keyId: rows[0]!.keyId, rows };
  }

  /** D1 has the batch: forget it. */
  confirm(batchId: string): void {
    this.sql.exec("DELETE FROM usage_pending WHERE batch = ?", batchId);
  }
}
