/**
 * Runs the gateway Worker in workerd through Miniflare's API directly, without `wrangler dev`'s
 * proxy in front: the bindings come from wrangler.toml through wrangler's own
 * `unstable_getMiniflareWorkerOptions` (D1, both Durable Objects, vars), the Worker is bundled
 * with esbuild the way wrangler does (workerd conditions, ESM), and state is persisted in the same
 * layout as `wrangler dev --persist-to` (`<stateDir>/v3/...`), so the same D1 migrations and the
 * same state directory work with either runner. Everything listens on 127.0.0.1.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare, type WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { applyMigrations } from "./wrangler-cli.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER_TOML = path.join(ROOT, "wrangler.toml");

export interface GatewayMiniflareOptions {
  /** Port on 127.0.0.1; 0 or omitted = a free one. */
  port?: number;
  /** Vars and secrets on top of wrangler.toml's [vars] (e.g. ADMIN_API_KEY, POOL_TOKEN, limits). */
  vars?: Record<string, string>;
  /** Where D1 and Durable Object state lives (same layout as `wrangler dev --persist-to`). */
  stateDir: string;
  /** Worker module to bundle instead of wrangler.toml's `main` (a wrapper that re-exports it, e.g. for counting). */
  entry?: string;
  /** Skip `wrangler d1 migrations apply` (when the caller already applied them to stateDir). */
  skipMigrations?: boolean;
  /** Print the Worker's console output and Miniflare's info log. */
  verbose?: boolean;
  /** Open workerd's V8 inspector on this loopback port (profiling); omitted = no inspector. */
  inspectorPort?: number;
}

export interface RunningGatewayMiniflare {
  /** Base URL, e.g. http://127.0.0.1:8787 (no trailing slash). */
  url: string;
  /** The gateway's D1 database, for benchmarks that seed data the API would take too long to make. */
  database(): ReturnType<Miniflare["getD1Database"]>;
  stop(): Promise<void>;
}

/** Bundles a Worker entry into one ESM script, as wrangler does (workerd export conditions). */
export async function bundleWorker(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    write: false,
    logLevel: "silent",
  });
  const file = out.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

/** The worker that holds the static files, reached only through the gateway's ASSETS binding. */
const ASSETS_WORKER = "altiplano-static-assets";

function assetsWorker(assets: NonNullable<WorkerOptions["assets"]>): WorkerOptions {
  return {
    name: ASSETS_WORKER,
    modules: true,
    compatibilityDate: assets.assetConfig?.compatibility_date ?? "2026-04-20",
    // Every request it gets is a file the gateway asked for: straight to the files.
    script: "export default { fetch(request, env) { return env.FILES.fetch(request); } };",
    assets: { ...assets, binding: "FILES", routerConfig: { has_user_worker: false } },
  } as WorkerOptions;
}

/** Starts the gateway under Miniflare (workerd) with wrangler.toml's bindings; resolves once it listens. */
export async function startGatewayMiniflare(options: GatewayMiniflareOptions): Promise<RunningGatewayMiniflare> {
  const stateDir = path.resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });
  if (options.skipMigrations !== true) await applyMigrations(stateDir, options.verbose ?? false);

  const config = unstable_readConfig({ config: WRANGLER_TOML });
  // Workers static assets need their directory to exist; until web/build.ts has filled it, the
  // pages answer 503 web_not_built and the API works as ever (benchmarks never build the page).
  if (config.assets?.directory) await mkdir(path.resolve(ROOT, config.assets.directory), { recursive: true });
  const { workerOptions, main } = unstable_getMiniflareWorkerOptions(WRANGLER_TOML);
  const entry = options.entry ?? main;
  if (entry === undefined) throw new Error("wrangler.toml has no main entry");
  const script = await bundleWorker(entry);
  const bindings = { ...(workerOptions.bindings ?? {}), ...(options.vars ?? {}) };
  const { assets, ...gatewayOptions } = workerOptions;
  const gateway = {
    ...gatewayOptions,
    // The same name as under wrangler dev, so Durable Object state in stateDir is shared.
    name: config.name,
    modules: true,
    script,
    bindings,
    ...(assets ? { serviceBindings: { ...(gatewayOptions.serviceBindings ?? {}), [assets.binding ?? "ASSETS"]: ASSETS_WORKER } } : {}),
  } as WorkerOptions;

  const mf = new Miniflare({
    host: "127.0.0.1",
    port: options.port ?? 0,
    defaultPersistRoot: path.join(stateDir, "v3"),
    // Never fetch Cloudflare's request.cf data from the internet: nothing leaves loopback.
    cf: false,
    verbose: options.verbose ?? false,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    // The gateway is the entry, as with run_worker_first on Cloudflare, where the platform's
    // asset routing is no Worker of its own. Miniflare's own arrangement would put its asset
    // router worker in front of every API request, a hop that costs a fifth of the non-streamed
    // throughput at 16 concurrent (README, Performance); here the static files sit behind the
    // ASSETS binding only, in a worker that serves them.
    workers: assets ? [gateway, assetsWorker(assets)] : [gateway],
  });
  const url = await mf.ready;
  return {
    url: url.origin,
    database: () => mf.getD1Database("DB"),
    stop: () => mf.dispose(),
  };
}
