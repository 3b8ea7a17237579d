/**
 * After svd-mini's autoencoder stage: the conditioning-frame encoder (`conditioner.embedders.3`, sgm
 * `AutoencoderKLModeOnly` inside `VideoPredictionEmbedderWithEncoder`) becomes the trained first-stage encoder, as in
 * the released SVD checkpoints where both are the same VAE encoder: `encoder.*` copied, `quant_conv` the identity
 * (the first stage, an `AutoencodingEngine`, has none). Its decoder is never run (sgm builds it, generation ignores it;
 * svd-mini's is narrower than the first stage's) and stays as it was. Usage:
 *   node --import tsx scripts/svd-mini/share-encoder.ts IN.safetensors OUT.safetensors
 */
import { encoderTwinKey, isFirstStageEncoderKey } from '../../src/models/tied-encoder.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { SafetensorsFile, writeSafetensors } from '../../src/weights/index.ts';

const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: share-encoder.ts IN.safetensors OUT.safetensors');
const file = await SafetensorsFile.open(input);
const all = await file.readAll();
await file.close();
const cond = 'conditioner.embedders.3.encoder';
let copied = 0;
for (const [k, t] of [...all]) {
  const to = encoderTwinKey(cond, k);
  if (isFirstStageEncoderKey(k) && all.has(to)) {
    if (all.get(to)!.shape.join() !== t.shape.join()) throw new Error(`${k} → ${to}: shapes differ`);
    all.set(to, t);
    copied++;
  }
}
const q = all.get(`${cond}.quant_conv.weight`);
if (!q) throw new Error(`${input} has no ${cond}.quant_conv.weight`);
const [c] = q.shape;
const eye = new Float32Array(c * c);
for (let i = 0; i < c; i++) eye[i * c + i] = 1;
all.set(`${cond}.quant_conv.weight`, new HostTensor('float32', q.shape, eye));
all.set(`${cond}.quant_conv.bias`, HostTensor.zeros('float32', [c]));
await writeSafetensors(output, all, { format: 'pt' });
console.error(`share-encoder: ${copied} tensors copied into ${cond}, quant_conv = identity → ${output}`);
