declare module "cloudflare:test" {
  interface ProvidedEnv extends import("../../workers/env.js").Env {
    TEST_MIGRATIONS: D1Migration[];
  }
}
