/** Learning-rate schedules: functions of the 0-based step, computed on the host in float64. */

export type LrSchedule = (step: number) => number;

export function constantLr(lr: number): LrSchedule {
  return () => lr;
}

/** Linear warm-up from 0 to `lr` over `warmupSteps`, then constant (sgm `LambdaLinearScheduler` with one cycle). */
export function warmupLr(lr: number, warmupSteps: number): LrSchedule {
  return (step) => (warmupSteps > 0 && step < warmupSteps ? (lr * (step + 1)) / warmupSteps : lr);
}

/** Linear warm-up, then cosine decay from `lr` to `minLr` at `totalSteps`. */
export function cosineLr(lr: number, totalSteps: number, warmupSteps = 0, minLr = 0): LrSchedule {
  return (step) => {
    if (warmupSteps > 0 && step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    const span = Math.max(1, totalSteps - warmupSteps);
    const progress = Math.min(1, (step - warmupSteps) / span);
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
