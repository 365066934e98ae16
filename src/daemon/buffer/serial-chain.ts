/**
 * One promise chain for every spool operation of a queue, so files are written, sealed and
 * deleted in order, and a reader that awaits `idle()` sees a consistent picture.
 */
export interface SerialChain {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Resolves once everything queued so far has run. */
  idle(): Promise<void>;
}

export function createSerialChain(): SerialChain {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    run(task) {
      const run = chain.then(task, task);
      chain = run.catch(() => undefined);
      return run;
    },
    idle: () => chain.then(() => undefined),
  };
}
