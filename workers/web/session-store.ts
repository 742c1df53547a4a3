/**
 * D1 access for web sessions. A session row holds the SHA-256 of the session id the cookie
 * carries, the key it signs in as and when it expires; the caller is read with the key in one
 * query, so a revoked key's sessions end with it.
 */
import { and, eq, gt, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Caller } from "../app-env.js";
import { apiKeys, webSessions } from "../db/schema.js";

export async function createWebSession(db: D1Database, input: { idHash: string; keyId: string; now: number; expiresAt: number }): Promise<void> {
  const d = drizzle(db);
  // Expired rows go when new ones come, so the table holds only live sessions.
  await d.batch([
    d.delete(webSessions).where(lt(webSessions.expiresAt, input.now)),
    d.insert(webSessions).values({ idHash: input.idHash, keyId: input.keyId, createdAt: input.now, expiresAt: input.expiresAt }),
  ]);
}

/**
 * The caller a live session signs in as, with its expiry; null when it is unknown, expired, or its
 * key revoked. `bootstrap` is the caller of a session of the ADMIN_API_KEY secret, which has no
 * row in api_keys (null when that secret is not set).
 */
export async function findWebSession(
  db: D1Database,
  input: { idHash: string; now: number; bootstrap: Caller | null },
): Promise<{ caller: Caller; expiresAt: number } | null> {
  const row = await drizzle(db)
    .select({
      sessionKeyId: webSessions.keyId,
      expiresAt: webSessions.expiresAt,
      keyId: apiKeys.id,
      name: apiKeys.name,
      role: apiKeys.role,
      limits: apiKeys.limits,
      revokedAt: apiKeys.revokedAt,
    })
    .from(webSessions)
    .leftJoin(apiKeys, eq(apiKeys.id, webSessions.keyId))
    .where(and(eq(webSessions.idHash, input.idHash), gt(webSessions.expiresAt, input.now)))
    .get();
  if (!row) return null;
  if (row.keyId !== null && row.name !== null && row.role !== null && row.revokedAt === null) {
    return { caller: { keyId: row.keyId, name: row.name, role: row.role, limits: row.limits, via: "session" }, expiresAt: row.expiresAt };
  }
  if (row.keyId === null && input.bootstrap && row.sessionKeyId === input.bootstrap.keyId) {
    return { caller: { ...input.bootstrap, via: "session" }, expiresAt: row.expiresAt };
  }
  return null;
}

export async function deleteWebSession(db: D1Database, idHash: string): Promise<void> {
  await drizzle(db).delete(webSessions).where(eq(webSessions.idHash, idHash));
}
