/**
 * A task that must eventually succeed (report CRD discovery), retried after growing delays, with at
 * most one retry loop at a time: asking again while a loop runs joins it. Without that, each resync
 * tick during an API outage started its own endless loop, and they piled up.
 */

/** Options of `retryLoop`. */
export interface RetryLoopOptions {
  /** Ends the loop (and its pending wait) for good. */
  signal: AbortSignal;
  /** Told of each failure and of the wait before the next try. */
  onError: (error: unknown, retryInMs: number) => void;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/** Returns `trigger()`: starts a loop running `task` until it succeeds, unless one already runs. Never waits. */
export function retryLoop(task: () => Promise<void>, options: RetryLoopOptions): () => void {
  const { signal, onError, firstDelayMs = 2_000, maxDelayMs = 60_000 } = options;
  let running = false;
  const loop = async (): Promise<void> => {
    for (let delay = firstDelayMs; !signal.aborted; delay = Math.min(delay * 2, maxDelayMs)) {
      try {
        await task();
        return;
      } catch (error) {
        if (signal.aborted) return;
        onError(error, delay);
        await wait(delay, signal);
      }
    }
  };
  return () => {
    if (running || signal.aborted) return;
    running = true;
    void loop().finally(() => (running = false));
  };
}

/** Resolves after `ms`, or at once when `signal` aborts (no timer left behind to hold the process). */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
