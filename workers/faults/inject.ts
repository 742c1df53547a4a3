/**
 * The gateway's side of test-only fault injection (fault-windows.ts): while a fault is open, every
 * D1 call of the request path (statements and batches, before they reach D1) or every call to a
 * rate limiter object rejects, as a D1 outage or an unreachable Durable Object does. The wrapped
 * bindings replace the real ones in the request's env (workers/index.ts) only when FAULT_INJECTION
 * is "on"; off (the default, and every deployment), the one cost on the request path is comparing
 * that var.
 *
 * The open windows live in this isolate's memory: a local stack runs the gateway in one isolate,
 * which is all a test or benchmark needs. They are set through POST /admin/faults
 * (routes/admin-faults.ts).
 */
import type { Env } from "../env.js";
import { isFaultOpen, NO_FAULTS, openFault, type FaultTarget, type FaultWindows } from "./fault-windows.js";

// Mutable on purpose: the windows are the isolate's test-only fault switch, shared by every request.
let windows: FaultWindows = NO_FAULTS;

export function currentFaults(): FaultWindows {
  return windows;
}

export function injectFault(target: FaultTarget, durationMs: number): FaultWindows {
  windows = openFault(windows, target, Date.now(), durationMs);
  return windows;
}

export function clearFaults(): FaultWindows {
  windows = NO_FAULTS;
  return windows;
}

/** The error an injected fault throws: worded as D1 and workerd word theirs, so callers treat it the same. */
export class InjectedFaultError extends Error {
  override readonly name = "InjectedFaultError";
}

function failIfOpen(target: FaultTarget): void {
  if (isFaultOpen(windows, target, Date.now())) {
    throw new InjectedFaultError(
      target === "d1" ? "D1_ERROR: injected fault: the database is unavailable" : "Durable Object is overloaded (injected fault: the limiter is unavailable)",
    );
  }
}

const STATEMENT_CALLS = new Set<PropertyKey>(["first", "run", "all", "raw"]);
const realStatements = new WeakMap<object, D1PreparedStatement>();

function faultyStatement(statement: D1PreparedStatement): D1PreparedStatement {
  const proxy = new Proxy(statement, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => faultyStatement(target.bind(...values));
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (STATEMENT_CALLS.has(prop)) {
        return async (...args: unknown[]) => {
          failIfOpen("d1");
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  realStatements.set(proxy, statement);
  return proxy;
}

function faultyD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => faultyStatement(target.prepare(query));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          failIfOpen("d1");
          // D1 takes only its own statements, not the proxies handed out above.
          return target.batch(statements.map((s) => realStatements.get(s) ?? s));
        };
      }
      if (prop === "exec") {
        return async (query: string) => {
          failIfOpen("d1");
          return target.exec(query);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function faultyStub<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get(target, prop) {
      // Not a thenable: a stub may pass through `await`.
      if (prop === "then") return undefined;
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      // Called as a method of the stub: an RPC property's own `apply` would be another remote call.
      return (...args: unknown[]) => {
        failIfOpen("limiter");
        return (target as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop]!(...args);
      };
    },
  });
}

function faultyNamespace(ns: Env["RATE_LIMITER"]): Env["RATE_LIMITER"] {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "get") return (id: DurableObjectId) => faultyStub(target.get(id));
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// One wrapped env per real one, so per-env caches (config, limiter ids) keep working.
const wrappedEnvs = new WeakMap<Env, Env>();

/** `env` with its D1 and limiter bindings made to fail while a fault is open. */
export function withInjectableFaults(env: Env): Env {
  let wrapped = wrappedEnvs.get(env);
  if (wrapped === undefined) {
    wrapped = { ...env, DB: faultyD1(env.DB), RATE_LIMITER: faultyNamespace(env.RATE_LIMITER) };
    wrappedEnvs.set(env, wrapped);
  }
  return wrapped;
}
