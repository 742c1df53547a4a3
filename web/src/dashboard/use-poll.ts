/**
 * Polls a loader while the tab is visible: the next call starts `intervalMs` after the previous
 * answer (never two at once, so a slow gateway is not piled on), stops while the tab is hidden,
 * and loads at once when it shows again. `refresh()` loads now (after an operator action).
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Polled<T> {
  data: T | null;
  /** The last failure, cleared by the next success. */
  error: unknown;
  /** When the last successful answer arrived (ms since the epoch), or null. */
  updatedAt: number | null;
  refresh: () => void;
}

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; updatedAt: number | null }>({ data: null, error: null, updatedAt: null });
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef<() => void>(() => undefined);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | null = null;
    let stopped = false;
    // A refresh asked for while a call is in flight: that call's answer may predate the change.
    let again = false;

    const schedule = (delay: number): void => {
      clearTimeout(timer);
      if (stopped || document.hidden) return;
      timer = setTimeout(() => void run(), delay);
    };
    const run = async (): Promise<void> => {
      if (stopped) return;
      if (controller !== null) {
        again = true;
        return;
      }
      controller = new AbortController();
      const mine = controller;
      try {
        const data = await loadRef.current(mine.signal);
        if (!stopped) setState({ data, error: null, updatedAt: Date.now() });
      } catch (err) {
        if (!stopped && !(err instanceof DOMException && err.name === "AbortError")) setState((s) => ({ ...s, error: err }));
      } finally {
        if (controller === mine) controller = null;
        schedule(again ? 0 : intervalMs);
        again = false;
      }
    };
    const onVisibility = (): void => {
      if (document.hidden) {
        clearTimeout(timer);
        return;
      }
      void run();
    };
    kick.current = () => {
      clearTimeout(timer);
      void run();
    };

    document.addEventListener("visibilitychange", onVisibility);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  return { ...state, refresh };
}
