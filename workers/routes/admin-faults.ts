/**
 * Test-only fault injection (admin role, FAULT_INJECTION = "on", and a request that reached the
 * gateway on loopback; otherwise this path does not exist): `POST /admin/faults
 * {"target":"d1"|"limiter","duration_ms":3000}` makes the gateway's D1 or rate-limiter calls fail
 * for that long, `DELETE /admin/faults` ends every fault, `GET /admin/faults` shows what is open.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { requireRole } from "../auth/middleware.js";
import { notFound } from "../errors.js";
import { FAULT_TARGETS, isFaultInjectionOn, isLoopbackHost, MAX_FAULT_MS, remainingFaultMs, type FaultWindows } from "../faults/fault-windows.js";
import { clearFaults, currentFaults, injectFault } from "../faults/inject.js";
import { readJsonBody } from "../http/json-body.js";

const InjectFaultBody = z.object({ target: z.enum(FAULT_TARGETS), duration_ms: z.number().int().min(1).max(MAX_FAULT_MS) }).strict();

const onlyWhenEnabled = createMiddleware<AppEnv>(async (c, next) => {
  if (!isFaultInjectionOn(c.env.FAULT_INJECTION) || !isLoopbackHost(new URL(c.req.url).hostname)) {
    throw notFound(`No route for ${c.req.method} ${new URL(c.req.url).pathname}.`);
  }
  await next();
});

function faultsJson(windows: FaultWindows): { object: "faults"; remaining_ms: Record<string, number> } {
  return { object: "faults", remaining_ms: remainingFaultMs(windows, Date.now()) };
}

export const adminFaultsRoutes = new Hono<AppEnv>()
  .use(onlyWhenEnabled, requireRole("admin"))
  .get("/", (c) => c.json(faultsJson(currentFaults())))
  .post("/", async (c) => {
    const body = await readJsonBody(c, InjectFaultBody);
    return c.json(faultsJson(injectFault(body.target, body.duration_ms)));
  })
  .delete("/", (c) => c.json(faultsJson(clearFaults())));
