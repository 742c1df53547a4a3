/**
 * Runs CPU-bound benchmark tasks on worker threads (one per core by default). The task module is
 * a TypeScript file loaded through tsx inside each thread; it calls `serveTasks(handler)`.
 * Tasks and results cross threads by structured clone, so keep them plain data.
 */
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker } from "node:worker_threads";

interface TaskMessage<T> {
  id: number;
  task: T;
}
type ResultMessage<R> = { id: number; ok: true; result: R } | { id: number; ok: false; error: string };

/** Default thread count: the machine's cores. */
export function defaultParallelism(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Runs every task on up to `parallel` threads that load `moduleUrl`; `onResult` sees results as
 * they finish (in completion order); the promise resolves to results in task order.
 */
export async function runInThreads<T, R>(o: {
  moduleUrl: string;
  tasks: readonly T[];
  parallel: number;
  onResult?: (result: R, task: T, index: number) => void;
}): Promise<R[]> {
  const results = new Array<R>(o.tasks.length);
  if (o.tasks.length === 0) return results;
  const tsxApi = import.meta.resolve("tsx/esm/api");
  // Register tsx in the thread before importing the TypeScript module.
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(o.moduleUrl)}); })`;
  let next = 0;
  const threads = Math.max(1, Math.min(o.parallel, o.tasks.length));
  await Promise.all(
    Array.from({ length: threads }, async () => {
      const worker = new Worker(bootstrap, { eval: true });
      try {
        while (next < o.tasks.length) {
          const id = next++;
          const task = o.tasks[id]!;
          results[id] = await runOne<T, R>(worker, { id, task });
          o.onResult?.(results[id]!, task, id);
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
  return results;
}

function runOne<T, R>(worker: Worker, message: TaskMessage<T>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const onMessage = (reply: ResultMessage<R>): void => {
      if (reply.id !== message.id) return;
      cleanup();
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.error));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`benchmark thread exited with code ${code}`));
    };
    const cleanup = (): void => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage(message);
  });
}

/** In a task thread: answers each task with `handler`'s result (or its error). No-op on the main thread. */
export function serveTasks<T, R>(handler: (task: T) => R | Promise<R>): void {
  if (isMainThread || parentPort === null) return;
  const port = parentPort;
  port.on("message", (message: TaskMessage<T>) => {
    void (async () => {
      try {
        port.postMessage({ id: message.id, ok: true, result: await handler(message.task) } satisfies ResultMessage<R>);
      } catch (error) {
        port.postMessage({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ResultMessage<R>);
      }
    })();
  });
}
