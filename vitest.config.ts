import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { buildWeb } from "./web/build.js";

// Two projects: `worker` runs inside workerd against real local D1 and Durable Objects (the
// Workers vitest integration); `node` runs the simulator, agent, bot, benches' pure parts and the
// end-to-end tests that drive a started stack with real clients.
// Miniflare would otherwise fetch the Request.cf object from the network; tests stay on loopback.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

export default defineConfig(async () => {
  // The web app's files, once per run: the Worker serves them (wrangler.toml [assets]) in every
  // project, and the browser tests load them.
  await buildWeb();
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ADMIN_API_KEY: "sk-admin-test",
                  POOL_TOKEN: "pool-test-token",
                  SESSION_SECRET: "session-secret-test",
                },
              },
            }),
          ],
          test: {
            name: "worker",
            include: ["test/worker/**/*.test.ts"],
            setupFiles: ["./test/worker/apply-migrations.ts"],
          },
        },
        {
          test: {
            name: "node",
            include: ["test/**/*.test.ts"],
            exclude: ["test/worker/**", "node_modules/**"],
            environment: "node",
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
