/**
 * Cancellable waits for the forward loop: stop() wakes every sleeper at once, so a lane parked
 * on a 60 s backoff or on an empty queue exits immediately. Timers are unref'd: a forgotten
 * forwarder must not keep the process alive.
 */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
  /** Resolves when `p` settles or wakeAll() is called, whichever comes first. */
  until(p: Promise<unknown>): Promise<void>;
  wakeAll(): void;
}

export function createSleeper(): Sleeper {
  let woken = false;
  const waiters = new Set<() => void>();

  function park(register: (done: () => void) => () => void): Promise<void> {
    if (woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        waiters.delete(done);
        cleanup();
        resolve();
      };
      waiters.add(done);
      const cleanup = register(done);
    });
  }

  return {
    sleep(ms) {
      return park((done) => {
        const timer = setTimeout(done, Math.max(0, ms));
        timer.unref();
        return () => clearTimeout(timer);
      });
    },
    until(p) {
      return park((done) => {
        p.then(done, done);
        return () => undefined;
      });
    },
    wakeAll() {
      woken = true;
      for (const w of [...waiters]) w();
    },
  };
}
