/**
 * Waiting on work that takes no AbortSignal (hashing a checkpoint of many gigabytes, say) without letting it delay
 * an abort: the wait ends at once with the signal's reason, and the work itself runs on unobserved.
 */

/** Resolves as `work` does, or rejects with `signal.reason` as soon as the signal aborts, whichever comes first. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {}); // its failure no longer matters
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
