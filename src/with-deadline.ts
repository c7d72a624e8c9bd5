/**
 * The one place that bounds work in time: a tool call, a PDF read, a workflow step attempt. The work gets a signal
 * that aborts when the deadline passes or the caller's signal aborts; the returned promise settles at that moment
 * even when the work ignores its signal (a tool stuck in a loop of awaits still ends its step on time).
 */

/** setTimeout fires at once for delays past 2^31 - 1 ms (Node's TimeoutOverflowWarning): the longest timer there is. */
export const maxTimerDelayMs = 2 ** 31 - 1;

export interface WithDeadlineOptions {
  /**
   * Milliseconds the work may take. Undefined (or Infinity): no deadline, only the signal. Values past
   * {@link maxTimerDelayMs} are refused (RangeError): validate user-given timeouts before calling.
   */
  timeoutMs?: number;
  /** The caller's signal; when it aborts, the work's signal aborts with `onAbort(reason)`. */
  signal?: AbortSignal;
  /** The error for a passed deadline (it becomes the work signal's reason and the rejection). */
  onTimeout: () => unknown;
  /** The error for the caller's abort (it becomes the work signal's reason and the rejection). */
  onAbort: (reason: unknown) => unknown;
}

/**
 * Runs `work` with a signal bounded by `timeoutMs` and `signal`. Resolves with the work's value, or rejects with
 * the work's error, or with `onTimeout()` / `onAbort()` as soon as the deadline passes or the signal aborts.
 */
export function withDeadline<T>(work: (signal: AbortSignal) => PromiseLike<T> | T, options: WithDeadlineOptions): Promise<T> {
  const { timeoutMs, signal } = options;
  if (timeoutMs !== undefined && timeoutMs !== Infinity && !(timeoutMs >= 0 && timeoutMs <= maxTimerDelayMs)) {
    throw new RangeError(`withDeadline: timeoutMs must be a number of ms in [0, ${maxTimerDelayMs}], got ${timeoutMs}.`);
  }
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = (error: unknown) => {
      if (controller.signal.aborted) return;
      controller.abort(error);
      cleanup();
      reject(error);
    };
    const onCallerAbort = () => stop(options.onAbort(signal!.reason));
    function cleanup(): void {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }
    if (signal?.aborted) return stop(options.onAbort(signal.reason));
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs !== Infinity) timer = setTimeout(() => stop(options.onTimeout()), timeoutMs);
    let running: PromiseLike<T> | T;
    try {
      running = work(controller.signal);
    } catch (error) {
      cleanup();
      return reject(error);
    }
    Promise.resolve(running).then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
