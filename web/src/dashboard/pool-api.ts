/** The dashboard's calls to the admin pool API, signed in by the session cookie (same origin). */
import { json } from "../api/client.js";
import { PoolSchema, PoolWorkerDeletedSchema, PoolWorkerSchema, type Pool } from "./pool-schemas.js";
import type { WorkerAction } from "./worker-state.js";

export const getPool = (): Promise<Pool> => json(PoolSchema, "GET", "/admin/pool");

export async function runWorkerAction(workerId: string, action: WorkerAction): Promise<void> {
  const path = `/admin/pool/workers/${encodeURIComponent(workerId)}`;
  if (action === "remove") await json(PoolWorkerDeletedSchema, "DELETE", path);
  else await json(PoolWorkerSchema, "POST", `${path}/${action}`);
}
