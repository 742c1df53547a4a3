import type { D1Migration } from "cloudflare:test";
import type { Env as GatewayEnv } from "../../workers/env.js";

declare global {
  namespace Cloudflare {
    interface Env extends GatewayEnv {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
