/**
 * The app's not-found handler: a path the app serves, asked with a method it does not serve, is a
 * 405 with `Allow`; any other path is a 404. The allowed methods come from the app's own route
 * table, so a route added later is covered without a hand-written list.
 */
import type { Context, NotFoundHandler } from "hono";
import { METHOD_NAME_ALL } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";

/** A route as Hono lists it in `app.routes`. */
export interface RouteEntry {
  method: string;
  path: string;
}

/** Any method key works: every route is filed under it, so one match returns every method of a path. */
const LOOKUP = "GET";

/**
 * Matches paths with Hono's own router rather than a hand-made pattern matcher, so `:id`,
 * `:id{regex}`, optional params and wildcards mean exactly what they mean to the app.
 */
export class AllowedMethods {
  readonly #router = new TrieRouter<string>();

  constructor(routes: readonly RouteEntry[]) {
    for (const route of routes) {
      // "ALL" entries are middleware (`app.use`), which serves no method by itself.
      if (route.method === METHOD_NAME_ALL) continue;
      this.#router.add(LOOKUP, route.path, route.method.toUpperCase());
    }
  }

  /** The methods served at `path`, sorted; HEAD wherever GET is (Hono answers HEAD with the GET handler). Empty: no route. */
  for(path: string): string[] {
    const methods = new Set(this.#router.match(LOOKUP, path)[0].map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  }
}

export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): GatewayError {
  return new GatewayError({
    status: 405,
    type: "invalid_request_error",
    message: `${method} is not supported on ${path}; use ${allowed.join(", ")}.`,
    code: "method_not_allowed",
    headers: { allow: allowed.join(", ") },
  });
}

function unknownRoute(method: string, path: string): GatewayError {
  return new GatewayError({
    status: 404,
    type: "invalid_request_error",
    message: `Unknown route: ${method} ${path}`,
    code: "unknown_route",
  });
}

/**
 * The not-found handler for an app. `routes` is read on the first miss, not at mount time, because
 * routes registered after `app.notFound` must count too; the table is built once per isolate.
 */
export function notFoundOrMethodNotAllowed(routes: () => readonly RouteEntry[]): NotFoundHandler<AppEnv> {
  let table: AllowedMethods | null = null;
  return (c: Context<AppEnv>) => {
    table ??= new AllowedMethods(routes());
    const path = c.req.path;
    const allowed = table.for(path);
    const err = allowed.length > 0 && !allowed.includes(c.req.method) ? methodNotAllowed(c.req.method, path, allowed) : unknownRoute(c.req.method, path);
    return c.json(err.toBody(), err.status, err.headers);
  };
}
