/** Progress lines for long benchmark runs, on stderr so stdout stays clean for results. */

/** Writes "[elapsed] message" lines to stderr; `step` adds "i/n". */
export function createProgress(o: {
  label: string;
  total?: number;
  /** performance.now() of the run's start, so several progress objects share one clock. */
  startedMs?: number;
  write?: (line: string) => void;
}): {
  log: (message: string) => void;
  step: (message: string) => void;
} {
  const started = o.startedMs ?? performance.now();
  const write = o.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  let done = 0;
  const stamp = (): string => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  return {
    log: (message) => write(`[${o.label} ${stamp()}] ${message}`),
    step: (message) => {
      done++;
      const of = o.total === undefined ? `${done}` : `${done}/${o.total}`;
      write(`[${o.label} ${stamp()}] ${of} ${message}`);
    },
  };
}
