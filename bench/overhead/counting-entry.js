/**
 * Bench-only Worker entry: the real gateway (workers/index.ts, unchanged) with its bindings
 * wrapped so that every D1 round trip, every Durable Object call and every fetch to a GPU worker
 * is counted. Plain JS because it runs in workerd, outside the Node project's type-check.
 *
 * - Totals since start: GET /__bench/totals -> { requests, d1, do: { "POOL.snapshot": n, ... }, upstream }.
 * - One request's sequence: send it with `x-bench-trace: <id>`, later GET /__bench/trace/<id>
 *   -> { events: [{ kind: "d1" | "do" | "upstream", name }] } in call order (background work
 *   started by that request, e.g. settlement in waitUntil, included). Traced requests must be sent
 *   one at a time: calls are attributed to the trace that is current when they happen.
 *
 * Heartbeats (/pool/*) get the raw env and are not counted: they are the agents' traffic, not a turn's.
 */
import app from "../../workers/index.ts";

// Every Durable Object class the gateway exports, whatever wrangler.toml binds.
export * from "../../workers/index.ts";

const totals = { requests: 0, d1: 0, do: {}, upstream: 0 };
const traces = new Map();
let currentTrace = null;

function record(kind, name) {
  if (kind === "d1") totals.d1++;
  else if (kind === "upstream") totals.upstream++;
  else totals.do[name] = (totals.do[name] ?? 0) + 1;
  if (currentTrace !== null) traces.get(currentTrace)?.push({ kind, name });
}

const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  // The gateway's only outbound fetches are to GPU workers.
  record("upstream", "fetch");
  return realFetch(input, init);
};

function countingD1(db) {
  const originals = new WeakMap();
  const wrap = (stmt) => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...values) => wrap(target.bind(...values));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...args) => {
            record("d1", String(prop));
            return target[prop](...args);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    originals.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query) => wrap(target.prepare(query));
      if (prop === "batch") {
        return (statements) => {
          record("d1", "batch");
          return target.batch(statements.map((s) => originals.get(s) ?? s));
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function countingStub(binding, stub) {
  return new Proxy(stub, {
    get(target, prop) {
      // `then` must stay undefined-ish so a stub is never mistaken for a promise.
      if (typeof prop !== "string" || prop === "then") return Reflect.get(target, prop);
      return (...args) => {
        record("do", `${binding}.${prop}`);
        return target[prop](...args);
      };
    },
  });
}

function countingNamespace(binding, ns) {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "get") return (id, opts) => countingStub(binding, target.get(id, opts));
      if (prop === "getByName") return (name, opts) => countingStub(binding, target.getByName(name, opts));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// One wrapped env per isolate env, so identity-keyed caches in the gateway keep hitting.
const wrappedEnvs = new WeakMap();
function countingEnv(env) {
  let wrapped = wrappedEnvs.get(env);
  if (wrapped === undefined) {
    wrapped = { ...env, DB: countingD1(env.DB), POOL: countingNamespace("POOL", env.POOL), RATE_LIMITER: countingNamespace("RATE_LIMITER", env.RATE_LIMITER) };
    wrappedEnvs.set(env, wrapped);
  }
  return wrapped;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/totals") return Response.json(totals);
    if (url.pathname.startsWith("/__bench/trace/")) {
      const id = decodeURIComponent(url.pathname.slice("/__bench/trace/".length));
      const events = traces.get(id) ?? [];
      traces.delete(id);
      if (currentTrace === id) currentTrace = null;
      return Response.json({ events });
    }
    if (url.pathname.startsWith("/pool/")) return app.fetch(request, env, ctx);
    const trace = request.headers.get("x-bench-trace");
    if (trace !== null) {
      traces.set(trace, []);
      currentTrace = trace;
    }
    totals.requests++;
    return app.fetch(request, countingEnv(env), ctx);
  },
};
