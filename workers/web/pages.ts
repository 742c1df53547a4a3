/**
 * The web app's pages and files, served from Workers static assets (the ASSETS binding, built into
 * web/dist by web/build.ts) through the Worker, so every one carries the security headers below —
 * the same under `npm start`, `wrangler dev` and `wrangler deploy`.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";

/**
 * No inline script or style anywhere, nothing from another origin, no framing: a message that
 * smuggles markup past the renderer still cannot run or load anything.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // A share link is its own secret: never hand it to the sites a shared answer links to.
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

function assetsMissing(): GatewayError {
  return new GatewayError({
    status: 503,
    type: "service_unavailable_error",
    message: "The web app's files are not built: run `npm run build:web` (npm start and npm test build them).",
    code: "web_not_built",
  });
}

async function fromAssets(c: Context<AppEnv>, path: string, cacheControl: string): Promise<Response> {
  if (!c.env.ASSETS) throw assetsMissing();
  const asset = await c.env.ASSETS.fetch(new Request(new URL(path, c.req.url), { method: c.req.method === "HEAD" ? "HEAD" : "GET" }));
  if (asset.status === 404 && path.endsWith(".html")) throw assetsMissing();
  const response = new Response(asset.body, asset);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  if (asset.ok) response.headers.set("cache-control", cacheControl);
  return response;
}

/** HTML is revalidated on every visit (it names the current hashed files); hashed files never change. */
const PAGE_CACHE = "no-cache";
const HASHED_FILE_CACHE = "public, max-age=31536000, immutable";

export const pageRoutes = new Hono<AppEnv>()
  .get("/", (c) => fromAssets(c, "/index.html", PAGE_CACHE))
  .get("/share/:id", (c) => fromAssets(c, "/share.html", PAGE_CACHE))
  .get("/arena", (c) => fromAssets(c, "/arena.html", PAGE_CACHE))
  .get("/leaderboard", (c) => fromAssets(c, "/leaderboard.html", PAGE_CACHE))
  .get("/dashboard", (c) => fromAssets(c, "/dashboard.html", PAGE_CACHE))
  .get("/assets/*", (c) => fromAssets(c, new URL(c.req.url).pathname, HASHED_FILE_CACHE));
