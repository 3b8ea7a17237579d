/**
 * Ctrl-C (SIGINT) for commands that write outputs: the first SIGINT aborts the command's signal, and the command
 * removes its temporary outputs as it unwinds; further SIGINTs are absorbed (a terminal, `npx` forwarding and a
 * second key press can each deliver one) so that nothing cuts that cleanup short. Should the command not have
 * finished within `graceMs` (a bug, or a step that cannot be interrupted), `cleanupSync` runs and the process ends
 * anyway: a second Ctrl-C is never needed.
 *
 * `endInterrupted` ends the process as an uncaught Ctrl-C does, by SIGINT (a shell reports status 130). A command
 * whose engine worker may still be inside a native ONNX Runtime call needs it: Node's `process.exit` and a natural exit
 * both wait for worker threads to stop, which a worker cannot do until that call returns (minutes for a full-size
 * decode).
 */

export interface InterruptOptions {
  /** The abort reason of the first SIGINT. */
  reason: () => Error;
  /** How long the command may take to unwind after the first SIGINT before the process ends anyway (ms). */
  graceMs?: number;
  /** Removes temporary outputs synchronously when the grace period runs out. */
  cleanupSync?: () => void;
  /** Printed when the grace period runs out, before the process ends. */
  forcedMessage?: string;
  /** Ends the process when the grace period runs out (default `endInterrupted`; tests pass their own). */
  end?: () => void;
}

export interface Interrupt {
  /** Aborted by the first SIGINT, with `reason()`. */
  readonly signal: AbortSignal;
  /**
   * Call when the command returns: stops listening for SIGINT, except after an interruption, when SIGINTs are still
   * absorbed until the process ends (a late one would otherwise end the exiting process by signal, not exit 130).
   */
  dispose(): void;
}

/** How long `endInterrupted` waits for its own SIGINT to end the process before exiting with 130. */
const SIGNAL_WAIT_MS = 2000;

/** Default time the command has to unwind after Ctrl-C. */
const DEFAULT_GRACE_MS = 3000;

/** Listens for SIGINT until `dispose()` (see the module comment). */
export function listenForInterrupt(options: InterruptOptions): Interrupt {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onSigint = () => {
    if (controller.signal.aborted) return; // absorbed: the cleanup of the first one is under way
    controller.abort(options.reason());
    timer = setTimeout(() => {
      try {
        options.cleanupSync?.();
      } finally {
        if (options.forcedMessage) console.error(options.forcedMessage);
        (options.end ?? endInterrupted)();
      }
    }, options.graceMs ?? DEFAULT_GRACE_MS);
    timer.unref();
  };
  process.on('SIGINT', onSigint);
  return {
    signal: controller.signal,
    dispose() {
      if (timer) clearTimeout(timer);
      if (!controller.signal.aborted) process.removeListener('SIGINT', onSigint);
    },
  };
}

/**
 * Ends the process by SIGINT at once, without waiting for worker threads (see the module comment); the caller has
 * removed its temporary outputs and printed its message. Falls back to `process.exit(130)` should the signal not end
 * the process.
 */
export function endInterrupted(): never {
  // With no listener left, Node restores SIGINT's default action, which ends the process.
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, 'SIGINT');
  // The kernel may hand the signal to another thread (an ONNX Runtime or worker thread) and return at once; going on to
  // process.exit would then tear down a worker inside a native call, which aborts the process. Wait for the signal.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SIGNAL_WAIT_MS);
  process.exit(130);
}
