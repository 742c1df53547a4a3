/**
 * The per-isolate cache of who a credential is: API keys by hash, web sessions by the hash of their
 * id, the public demo's key by id. One cache, so forgetting a revoked or changed key forgets it
 * under every credential. An entry lives at most AUTH_CACHE_TTL_MS, the documented bound on how
 * long a revocation takes to reach every isolate.
 */
import type { Caller } from "../app-env.js";

/** The bootstrap admin key from the ADMIN_API_KEY secret: a caller with no row in api_keys. */
export const BOOTSTRAP_ADMIN: Readonly<Caller> = { keyId: "key_bootstrap_admin", name: "bootstrap admin", role: "admin", limits: null };

export interface CacheEntry {
  caller: Caller | null;
  expiresAt: number;
}

/** Bounded in size and age. Entries are named by credential kind: `key:<hash>`, `session:<hash>`, `demo:<key id>`. */
export class CallerCache {
  private readonly entries = new Map<string, CacheEntry>();
  private static readonly MAX_ENTRIES = 10_000;

  get(name: string, now: number): CacheEntry | undefined {
    const entry = this.entries.get(name);
    if (entry && entry.expiresAt <= now) {
      this.entries.delete(name);
      return undefined;
    }
    return entry;
  }

  set(name: string, entry: CacheEntry): void {
    if (this.entries.size >= CallerCache.MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(name, entry);
  }

  forgetKeyId(keyId: string): void {
    for (const [name, entry] of this.entries) if (entry.caller?.keyId === keyId) this.entries.delete(name);
  }
}

export const callerCache = new CallerCache();

/** Drops a revoked or changed key from this isolate's cache, under every credential that named it. */
export function forgetCachedKey(keyId: string): void {
  callerCache.forgetKeyId(keyId);
}

