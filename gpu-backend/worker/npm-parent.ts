/**
 * `npm run x` starts its script under `sh -c`, and the shell does not pass signals on: SIGTERM to
 * npm's pid ends npm and the shell and never reaches the script, which then runs on as an orphan
 * (a gateway holding its port, a worker heartbeating for a box nobody runs). Scripts that npm
 * launched therefore watch their parent and stop when it is gone. Started any other way (node
 * directly, systemd, a container), they do not watch: their parent's life is not theirs.
 */

/** How often to look whether the launching process is still there. */
const PARENT_CHECK_MS = 250;

/** Calls `onGone` once, when the npm that launched this process has died; a no-op outside npm. */
export function stopWithNpm(onGone: () => void): void {
  if (process.env.npm_lifecycle_event === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, PARENT_CHECK_MS);
  timer.unref();
}
