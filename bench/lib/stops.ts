/**
 * What a benchmark started and must stop: pushed as it starts, stopped newest first (also on
 * Ctrl-C), each stop's failure ignored so the rest still run.
 */
export interface Stops {
  push(stop: () => Promise<void>): void;
  /** Stops everything pushed so far, newest first; safe to call again. */
  stopAll(): Promise<void>;
}

export function createStops(): Stops {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  return { push: (stop) => void stops.push(stop), stopAll };
}
