/**
 * A first-in first-out lock whose waiters can leave the line: a waiter whose AbortSignal fires is dropped at once
 * instead of waiting for everything ahead of it (a queued generation that is aborted settles without waiting for the
 * one running). Holders release by calling the function `acquire` resolved with.
 */
export class AbortableLock {
  readonly #waiting: Array<{ grant(): void }> = [];
  #held = false;

  /** Whether someone holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Resolves with the release function once the lock is ours, or with undefined if `signal` aborts first (then
   * the lock was never taken and there is nothing to release).
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next.grant();
      else this.#held = false;
    };
  }
}
