/**
 * `sgm/modules/distributions/distributions.py::DiagonalGaussianDistribution` as used by
 * `DiagonalGaussianRegularizer` and `AutoencoderKLModeOnly`: moments [N, 2z, ...] split on channels into mean and
 * logvar, logvar clamped to [−30, 20], std = exp(0.5·logvar). Only what is asked for is traced (`mode()` reads the
 * mean alone).
 */
import type { SymTensor } from '../../graph/builder.ts';
import * as op from '../../graph/ops/index.ts';

export const LOGVAR_MIN = -30;
export const LOGVAR_MAX = 20;

export class DiagonalGaussian {
  private readonly z: number;

  constructor(readonly moments: SymTensor) {
    if (moments.rank < 2 || moments.shape[1] % 2 !== 0) {
      throw new Error(`DiagonalGaussian: moments need an even channel count, got [${moments.shape}]`);
    }
    this.z = moments.shape[1] / 2;
  }

  /** Channels 0..z−1: [N, z, ...]. */
  get mean(): SymTensor {
    return op.narrow(this.moments, 1, 0, this.z);
  }

  /** clamp(channels z..2z−1, −30, 20): [N, z, ...]. */
  get logvar(): SymTensor {
    return op.minimum(op.maximum(op.narrow(this.moments, 1, this.z, this.z), LOGVAR_MIN), LOGVAR_MAX);
  }

  /** exp(0.5·logvar). */
  get std(): SymTensor {
    return op.exp(op.mul(this.logvar, 0.5));
  }

  /** exp(logvar). */
  get var(): SymTensor {
    return op.exp(this.logvar);
  }

  /** The posterior mode = mean. */
  mode(): SymTensor {
    return this.mean;
  }

  /** mean + std·noise, with noise ~ N(0, 1) of the mean's shape supplied by the caller. */
  sample(noise: SymTensor): SymTensor {
    return op.add(this.mean, op.mul(this.std, noise));
  }
}
