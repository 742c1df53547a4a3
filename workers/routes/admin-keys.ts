/** Admin API for keys: create (plaintext shown once), list, revoke. Admin role only. */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { forgetCachedKey, requireRole } from "../auth/middleware.js";
import { createApiKey, listApiKeys, revokeApiKey } from "../auth/key-store.js";
import type { ApiKeyRow } from "../db/schema.js";
import { notFound } from "../errors.js";
import { readJsonBody } from "../http/json-body.js";

const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(128),
    role: z.enum(["admin", "user", "bot"]),
  })
  .strict();

/** A key as the admin API shows it: never the hash, never the plaintext. */
export function keyView(row: ApiKeyRow) {
  return {
    id: row.id,
    object: "api_key" as const,
    name: row.name,
    role: row.role,
    prefix: row.keyPrefix,
    created_at: row.createdAt,
    revoked_at: row.revokedAt,
  };
}

export const adminKeysRoutes = new Hono<AppEnv>()
  .use(requireRole("admin"))
  .post("/", async (c) => {
    const body = await readJsonBody(c, CreateKeyBody);
    const { row, plaintext } = await createApiKey(c.env.DB, { name: body.name, role: body.role });
    return c.json({ ...keyView(row), key: plaintext }, 201);
  })
  .get("/", async (c) => {
    const rows = await listApiKeys(c.env.DB);
    return c.json({ object: "list", data: rows.map(keyView) });
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    const row = await revokeApiKey(c.env.DB, id);
    if (!row) throw notFound(`No API key with id '${id}'.`);
    forgetCachedKey(id);
    return c.json(keyView(row));
  });
