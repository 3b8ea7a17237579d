/**
 * svd-mini weights for the measuring scripts: a whole checkpoint as it is, or a training checkpoint of a stage
 * (`runs/svd-mini/<stage>/ckpt/step-*.safetensors`, format `svd-ts-train-state`: the trained tensors plus the
 * optimizer's, prefixed `…:`) laid over fresh weights and written to a temporary file. `cleanup()` removes it.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshWeights } from '../../src/models/fresh-weights.ts';
import { SVD_MINI } from '../../src/models/presets.ts';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';

export async function svdMiniWeightsPath(checkpoint: string): Promise<{ path: string; cleanup: () => void }> {
  const file = await SafetensorsFile.open(checkpoint);
  try {
    if (file.metadata.format !== 'svd-ts-train-state') return { path: checkpoint, cleanup: () => {} };
    const all = freshWeights(SVD_MINI, 0);
    for (const [k, t] of await file.readAll()) if (!k.includes(':')) all.set(k, t as HostTensor<'float32'>);
    const path = join(tmpdir(), `svd-mini-weights-${process.pid}.safetensors`);
    await writeSafetensors(path, all, { format: 'pt' });
    return { path, cleanup: () => rmSync(path, { force: true }) };
  } finally {
    await file.close();
  }
}
