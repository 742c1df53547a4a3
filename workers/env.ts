/** Bindings and variables the gateway Worker receives (see wrangler.toml). */
export interface Env {
  DB: D1Database;
  /** JSON list of served models (see workers/config.ts). */
  MODELS: string;
  /** JSON list of static backends {id, url, models}. */
  STATIC_BACKENDS: string;
  /** Bootstrap admin key (secret). */
  ADMIN_API_KEY?: string;
  /** Token GPU agents present on heartbeats (secret). */
  POOL_TOKEN?: string;
  /** The `--api-key` the gateway presents to vLLM (secret). */
  BACKEND_API_KEY?: string;
  /** Optional token for GET /metrics (secret). */
  METRICS_TOKEN?: string;
}
