/**
 * `GET /admin/export/conversations`: consented conversations as NDJSON, oldest first, one page
 * per request. Each line is one conversation with its messages and the 👍/👎 counts on each; the
 * last line carries the cursor of the next page (null at the end). A page is bounded, and its
 * conversations are read a few at a time and written as they are read, so an export of millions of
 * messages is many small requests — no request holds much in memory or runs long. `npm run
 * export` (export/cli.ts) walks the pages and cleans what it receives.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { ExportConversation, ExportCursorLine, ExportModelList } from "../../wire/export.js";
import { getConfig } from "../config.js";
import { isPoolEntry, ModelEntries } from "../models/model-config.js";
import type { AppEnv } from "../app-env.js";
import { requireRole } from "../auth/middleware.js";
import { invalidRequest } from "../errors.js";
import { parseWith } from "../http/json-body.js";

export const ExportQuery = z
  .object({
    /** The previous page's `next` cursor; absent = from the oldest. */
    after: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    model: z.string().min(1).max(128).optional(),
    /** Unix seconds, inclusive. */
    since: z.coerce.number().int().min(0).optional(),
    /** Unix seconds, exclusive. */
    until: z.coerce.number().int().min(0).optional(),
  })
  .strict();

/** Conversations whose messages are read in one query (D1 binds at most 100 parameters). */
const MESSAGES_BATCH = 20;

/** The cursor is (created_at, id) of the last conversation sent, opaque to the client. */
export function encodeCursor(createdAt: number, id: string): string {
  return btoa(`${createdAt}:${id}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
  let text: string;
  try {
    text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  const match = /^(\d{1,16}):(conv_[A-Za-z0-9_-]{1,64})$/.exec(text);
  return match ? { createdAt: Number(match[1]), id: match[2]! } : null;
}

interface ConversationHead {
  id: string;
  model: string;
  createdAt: number;
  systemPrompt: string | null;
}

const MessageLine = z.object({
  conversationId: z.string(),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  status: z.enum(["complete", "length", "cancelled", "failed"]).nullable(),
  up: z.number(),
  down: z.number(),
});

async function messagesOf(db: D1Database, ids: readonly string[]): Promise<Map<string, ExportConversation["messages"]>> {
  const placeholders = ids.map((_, i) => `?${i + 1}`).join(", ");
  const { results } = await db
    .prepare(
      `SELECT m.conversation_id AS conversationId, m.role, m.content, m.status,
              COALESCE(SUM(f.rating = 'up'), 0) AS up, COALESCE(SUM(f.rating = 'down'), 0) AS down
       FROM messages m LEFT JOIN message_feedback f ON f.message_id = m.id
       WHERE m.conversation_id IN (${placeholders})
       GROUP BY m.id ORDER BY m.conversation_id, m.seq`,
    )
    .bind(...ids)
    .all();
  const out = new Map<string, ExportConversation["messages"]>();
  for (const row of z.array(MessageLine).parse(results)) {
    const list = out.get(row.conversationId) ?? [];
    list.push({ role: row.role, content: row.content, status: row.status, feedback: { up: row.up, down: row.down } });
    out.set(row.conversationId, list);
  }
  return out;
}

export const adminExportRoutes = new Hono<AppEnv>().use(requireRole("admin"));

adminExportRoutes.get("/models", (c) => {
  getConfig(c.env); // a bad MODELS is reported as everywhere else
  // No base URLs or secret names: only what counting tokens needs.
  const entries = ModelEntries.parse(JSON.parse(c.env.MODELS));
  const body: ExportModelList = {
    object: "list",
    data: entries.map((e) =>
      isPoolEntry(e)
        ? { id: e.id, kind: "pool", template: e.template, tokenizer: e.tokenizer ?? null, context_length: e.contextLength }
        : { id: e.id, kind: "provider", tokenizer: e.tokenizer ?? null, context_length: e.contextLength },
    ),
  };
  return c.json(body);
});

adminExportRoutes.get("/conversations", async (c) => {
  const query = parseWith(ExportQuery, c.req.query());
  const after = query.after === undefined ? null : decodeCursor(query.after);
  if (query.after !== undefined && after === null) throw invalidRequest("`after` is not a cursor this export gave out.", "after", "invalid_cursor");
  const conditions = ["training_consent = 1", "arena_sealed = 0"];
  const params: (string | number)[] = [];
  const bind = (value: string | number) => {
    params.push(value);
    return `?${params.length}`;
  };
  if (after) conditions.push(`(created_at, id) > (${bind(after.createdAt)}, ${bind(after.id)})`);
  if (query.model !== undefined) conditions.push(`model = ${bind(query.model)}`);
  if (query.since !== undefined) conditions.push(`created_at >= ${bind(query.since * 1000)}`);
  if (query.until !== undefined) conditions.push(`created_at < ${bind(query.until * 1000)}`);
  const { results } = await c.env.DB.prepare(
    `SELECT id, model, created_at AS createdAt, system_prompt AS systemPrompt FROM conversations
     WHERE ${conditions.join(" AND ")} ORDER BY created_at, id LIMIT ${bind(query.limit + 1)}`,
  )
    .bind(...params)
    .all<ConversationHead>();
  const heads = results.slice(0, query.limit);
  const last = heads[heads.length - 1];
  const next = results.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null;

  const encoder = new TextEncoder();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const write = (value: ExportConversation | ExportCursorLine) => writer.write(encoder.encode(`${JSON.stringify(value)}\n`));
  const db = c.env.DB;
  const pump = async () => {
    try {
      for (let i = 0; i < heads.length; i += MESSAGES_BATCH) {
        const batch = heads.slice(i, i + MESSAGES_BATCH);
        const messages = await messagesOf(db, batch.map((h) => h.id));
        for (const head of batch) {
          await write({
            object: "export.conversation",
            id: head.id,
            model: head.model,
            created_at: Math.floor(head.createdAt / 1000),
            system_prompt: head.systemPrompt,
            messages: messages.get(head.id) ?? [],
          });
        }
      }
      await write({ object: "export.cursor", next, count: heads.length });
      await writer.close();
    } catch (err) {
      console.error("export page failed", err);
      await writer.abort(err).catch(() => undefined);
    }
  };
  c.executionCtx.waitUntil(pump());
  return new Response(readable, { headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" } });
});
