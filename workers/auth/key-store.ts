/** D1 access for API keys. Functions take the database so tests can seed without HTTP. */
import { and, desc, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Role } from "../app-env.js";
import { apiKeys, type ApiKeyRow } from "../db/schema.js";
import { DISPLAY_PREFIX_CHARS, generateApiKey, newId, sha256Hex } from "./key-material.js";

export interface CreatedKey {
  row: ApiKeyRow;
  /** The plaintext, returned once and never stored. */
  plaintext: string;
}

export async function createApiKey(
  db: D1Database,
  input: { name: string; role: Role; limits?: string | null; dataSharing?: boolean; now?: number },
): Promise<CreatedKey> {
  const plaintext = generateApiKey();
  const row: ApiKeyRow = {
    id: newId("key"),
    name: input.name,
    role: input.role,
    keyHash: await sha256Hex(plaintext),
    keyPrefix: plaintext.slice(0, DISPLAY_PREFIX_CHARS),
    limits: input.limits ?? null,
    dataSharing: input.dataSharing ?? false,
    createdAt: input.now ?? Date.now(),
    revokedAt: null,
  };
  await drizzle(db).insert(apiKeys).values(row);
  return { row, plaintext };
}

/** The active (not revoked) key with this hash, if any. */
export async function findActiveKeyByHash(db: D1Database, keyHash: string): Promise<ApiKeyRow | undefined> {
  return drizzle(db)
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .get();
}

export async function listApiKeys(db: D1Database): Promise<ApiKeyRow[]> {
  return drizzle(db).select().from(apiKeys).orderBy(desc(apiKeys.createdAt)).all();
}

export async function getApiKey(db: D1Database, id: string): Promise<ApiKeyRow | undefined> {
  return drizzle(db).select().from(apiKeys).where(eq(apiKeys.id, id)).get();
}

/** Marks a key revoked; returns the row, or undefined when no such key exists. */
export async function revokeApiKey(db: D1Database, id: string, now = Date.now()): Promise<ApiKeyRow | undefined> {
  const rows = await drizzle(db)
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return rows[0] ?? (await getApiKey(db, id));
}

/** Changes a key's limit overrides (JSON text, or null for the defaults) and/or its data-sharing default. */
export async function updateApiKey(
  db: D1Database,
  id: string,
  change: { name?: string; limits?: string | null; dataSharing?: boolean },
): Promise<ApiKeyRow | undefined> {
  if (change.name === undefined && change.limits === undefined && change.dataSharing === undefined) return getApiKey(db, id);
  const rows = await drizzle(db).update(apiKeys).set(change).where(eq(apiKeys.id, id)).returning();
  return rows[0];
}
