/**
 * The first stage's encoder as a graph: frames → the posterior's moments (sgm `AutoencodingEngine.encode` /
 * `AutoencoderKL.encode` before sampling). Training encodes its data with it (the latent cache); generation's
 * reconstruction check (src/pipeline/reconstruct.ts) takes the mean.
 */
import { GraphBuilder, type SymTensor } from '../../graph/builder.ts';
import type { Graph } from '../../graph/ir.ts';
import { Params } from '../../nn/params.ts';
import { FIRST_STAGE_PREFIX } from '../declare-params.ts';
import type { SvdModel } from '../description.ts';
import { encodeMoments } from './autoencoder.ts';
import { buildEncoder } from './encoder.ts';
import { DiagonalGaussian } from './gaussian.ts';

/** frames [N, 3, H, W] in [−1, 1] → `mean`, `logvar` [N, z, H/8, W/8] of the first stage's posterior. */
export function firstStageEncoderGraph(model: SvdModel, n: number, height: number, width: number): Graph {
  const fs = model.firstStage;
  const b = new GraphBuilder(`first_stage_encoder_${n}x${height}x${width}`);
  const x = b.input('frames', [n, 3, height, width]);
  const p = new Params(b).pp(FIRST_STAGE_PREFIX);
  let moments: SymTensor;
  if (fs.kind === 'autoencoder-kl') moments = encodeMoments(p, x, fs.kl);
  else if (fs.encoder) moments = buildEncoder(p.pp('encoder'), x, fs.encoder);
  else
    throw new Error(
      `${model.name}: the first stage has no encoder (torch.nn.Identity): it cannot encode training data`,
    );
  const g = new DiagonalGaussian(moments);
  b.output('mean', g.mean);
  b.output('logvar', g.logvar);
  return b.build();
}
