import { defineConfig } from "drizzle-kit";

// drizzle-kit writes into wrangler's migrations_dir, so wrangler and the tests apply the same files.
export default defineConfig({
  dialect: "sqlite",
  schema: "./workers/db/schema.ts",
  out: "./migrations",
});
