/**
 * Stage 2 of image-to-video (svd-spec.md §2.1 step 4): the conditioner graph on each video's batch → c; the
 * unconditional branch uc has zeros for crossattn and concat and keeps the vector. The conditioner's weights are
 * loaded once for every video of the request and released afterwards.
 */
import { unconditional } from '../../conditioning/unconditional.ts';
import { GraphBuilder, type SymTensor } from '../../graph/builder.ts';
import type { Graph } from '../../graph/ir.ts';
import { buildConditioner } from '../../models/conditioner/conditioner.ts';
import type { SvdModel } from '../../models/description.ts';
import { Params } from '../../nn/params.ts';
import type { HostTensor } from '../../tensor/host-tensor.ts';
import type { StageRunner } from '../stage-runner.ts';

export interface Conditioning {
  /** c: `crossattn` [1, 1, D], `vector` [T, Σ outdim], `concat` [1, 4, h, w] (those the model has). */
  c: Record<string, HostTensor>;
  uc: Record<string, HostTensor>;
}

/** The conditioner graph for a batch of these shapes and dtypes. */
export function conditionerGraph(model: SvdModel, batch: Readonly<Record<string, HostTensor>>): Graph {
  const b = new GraphBuilder('conditioner');
  const inputs: Record<string, SymTensor> = {};
  for (const [k, t] of Object.entries(batch)) inputs[k] = b.input(k, t.shape, t.dtype);
  const out = buildConditioner(new Params(b), model.embedders, model.clip, inputs);
  for (const [k, v] of Object.entries(out)) if (v) b.output(k, v);
  return b.build();
}

function shapeKey(batch: Readonly<Record<string, HostTensor>>): string {
  return Object.entries(batch)
    .map(([k, t]) => `${k}:${t.dtype}[${t.shape.join(',')}]`)
    .join(';');
}

/** c and uc for every batch (one per video), in order. */
export async function conditionVideos(
  runner: StageRunner,
  model: SvdModel,
  batches: readonly Readonly<Record<string, HostTensor>>[],
): Promise<Conditioning[]> {
  const graphs = new Map<string, Graph>();
  for (const batch of batches) {
    const key = shapeKey(batch);
    if (!graphs.has(key)) graphs.set(key, conditionerGraph(model, batch));
  }
  return runner.withGraphs(graphs.values(), async () => {
    const out: Conditioning[] = [];
    for (const batch of batches) {
      const c = await runner.run(graphs.get(shapeKey(batch))!, batch);
      out.push({ c, uc: unconditional(c) });
    }
    return out;
  });
}
