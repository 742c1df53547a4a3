/** Admin API for keys: create (plaintext shown once), list, rename, change limits, revoke. Admin role only. */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { forgetCachedKey, requireRole } from "../auth/middleware.js";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, updateApiKey } from "../auth/key-store.js";
import type { ApiKeyRow } from "../db/schema.js";
import type { Env } from "../env.js";
import { notFound } from "../errors.js";
import { readJsonBody } from "../http/json-body.js";
import { effectiveLimits, limitsToBody, LimitsBody, parseStoredLimits, patchStoredLimits } from "../limits/config.js";

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(128),
    role: z.enum(["admin", "user", "bot"]),
    limits: LimitsBody.optional(),
    /** Whether the key's new conversations consent to training-data export unless they say otherwise (default false). */
    data_sharing: z.boolean().optional(),
  })
  .strict();

export const PatchKeyBody = z
  .object({
    /** A new name (shown in listings and /admin/usage); the key itself does not change. */
    name: z.string().trim().min(1).max(128).optional(),
    /** Merged into the key's overrides field by field; null clears every override. */
    limits: LimitsBody.nullable().optional(),
    data_sharing: z.boolean().optional(),
  })
  .strict()
  .refine((b) => b.name !== undefined || b.limits !== undefined || b.data_sharing !== undefined, { message: "give name, limits or data_sharing" });

/** A key as the admin API shows it: never the hash, never the plaintext. */
export function keyView(env: Env, row: ApiKeyRow) {
  return {
    id: row.id,
    object: "api_key" as const,
    name: row.name,
    role: row.role,
    prefix: row.keyPrefix,
    created_at: row.createdAt,
    revoked_at: row.revokedAt,
    /** The key's own overrides (absent fields follow the configured defaults; null = unlimited). */
    limit_overrides: parseStoredLimits(row.limits),
    /** What is enforced: defaults merged with the overrides. */
    limits: limitsToBody(effectiveLimits(env, row.limits)),
    /** The default consent of the key's new conversations to training-data export. */
    data_sharing: Boolean(row.dataSharing),
  };
}

export const adminKeysRoutes = new Hono<AppEnv>()
  .use(requireRole("admin"))
  .post("/", async (c) => {
    const body = await readJsonBody(c, CreateKeyBody);
    const limits = body.limits ? patchStoredLimits(null, body.limits) : null;
    const { row, plaintext } = await createApiKey(c.env.DB, { name: body.name, role: body.role, limits, dataSharing: body.data_sharing ?? false });
    return c.json({ ...keyView(c.env, row), key: plaintext }, 201);
  })
  .get("/", async (c) => {
    const rows = await listApiKeys(c.env.DB);
    return c.json({ object: "list", data: rows.map((row) => keyView(c.env, row)) });
  })
  .get("/:id", async (c) => {
    const row = await getApiKey(c.env.DB, c.req.param("id"));
    if (!row) throw notFound(`No API key with id '${c.req.param("id")}'.`);
    return c.json(keyView(c.env, row));
  })
  .patch("/:id", async (c) => {
    const id = c.req.param("id");
    const body = await readJsonBody(c, PatchKeyBody);
    const current = await getApiKey(c.env.DB, id);
    if (!current) throw notFound(`No API key with id '${id}'.`);
    const row = await updateApiKey(c.env.DB, id, {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.limits === undefined ? {} : { limits: body.limits === null ? null : patchStoredLimits(current.limits, body.limits) }),
      ...(body.data_sharing === undefined ? {} : { dataSharing: body.data_sharing }),
    });
    if (!row) throw notFound(`No API key with id '${id}'.`);
    // Other isolates pick the change up when their cached lookup expires (AUTH_CACHE_TTL_MS).
    forgetCachedKey(id);
    return c.json(keyView(c.env, row));
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    const row = await revokeApiKey(c.env.DB, id);
    if (!row) throw notFound(`No API key with id '${id}'.`);
    forgetCachedKey(id);
    return c.json(keyView(c.env, row));
  });
