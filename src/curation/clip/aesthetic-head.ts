/**
 * The LAION aesthetic predictor v2 head (christophschuhmann/improved-aesthetic-predictor, Apache-2.0; e.g.
 * `sac+logos+ava1-l14-linearMSE.pth`), read from the user-given `.pth` (a `torch.save` zip of raw float32
 * storages, src/weights/torch-zip.ts), never bundled.
 *
 * Its `MLP.layers` is `Linear(768, 1024) → Dropout(0.2) → Linear(1024, 128) → Dropout(0.2) → Linear(128, 64) →
 * Dropout(0.1) → Linear(64, 16) → Linear(16, 1)`, state-dict keys `layers.{0,2,4,6,7}.{weight,bias}`, and its input is
 * the L2-normalised CLIP ViT-L/14 image embedding (768-d). There is no activation between the layers and dropout is
 * the identity at inference, so the network is one affine map: score = b + w·e with
 * w = W₁ᵀW₂ᵀ…W₅ᵀ and b the biases carried through the same products. {@link AestheticHead.scoreMlp} runs the stated
 * layers one after another (the faithful forward), {@link AestheticHead.score} uses the collapsed map; the tests
 * check that they agree. For the real file the collapsed bias is ≈ 5.2366 and ‖w‖ ≈ 18.0; scores are roughly 1–10.
 *
 * The layer chain is read from the file (any widths, in Sequential order, each Linear's input the previous one's
 * output, ending in one output), so a head with the same structure but other widths (or for another CLIP width)
 * loads the same way; the embedding width it expects is {@link AestheticHead.inputDim}.
 */
import { readTorchStateDict, TorchFileError } from '../../weights/torch-zip.ts';

export class AestheticHeadError extends Error {
  override name = 'AestheticHeadError';
}

interface Layer {
  name: string;
  /** [out, in], row-major. */
  weight: Float32Array;
  bias: Float32Array;
  inF: number;
  outF: number;
}

export class AestheticHead {
  /** The collapsed map, in float64: score = bias + Σ w[i]·e[i]. */
  readonly w: Float64Array;
  readonly bias: number;

  private constructor(
    readonly path: string,
    private readonly layers: readonly Layer[],
  ) {
    // w = W₁ᵀ·W₂ᵀ·…·Wₙᵀ·[1] (back through the layers); b = the network at e = 0 (the biases carried forward).
    let v = Float64Array.of(1);
    for (let i = layers.length - 1; i >= 0; i--) {
      const l = layers[i];
      const next = new Float64Array(l.inF);
      for (let o = 0; o < l.outF; o++) {
        for (let k = 0; k < l.inF; k++) next[k] += v[o] * l.weight[o * l.inF + k];
      }
      v = next;
    }
    let x = new Float64Array(layers[0].inF);
    for (const l of layers) {
      const y = new Float64Array(l.outF);
      for (let o = 0; o < l.outF; o++) {
        let s = l.bias[o];
        for (let k = 0; k < l.inF; k++) s += l.weight[o * l.inF + k] * x[k];
        y[o] = s;
      }
      x = y;
    }
    this.w = v;
    this.bias = x[0];
  }

  /** The embedding width the head takes (768 for the LAION ViT-L/14 heads). */
  get inputDim(): number {
    return this.layers[0].inF;
  }

  /** The Linear layers in order, as `name: in→out` (for messages and reports). */
  describe(): string {
    return this.layers.map((l) => `${l.name} ${l.inF}→${l.outF}`).join(', ');
  }

  /** Reads a `.pth` state dict whose Linear layers (`<prefix>.<i>.weight` / `.bias`) chain to one output. */
  static async load(path: string): Promise<AestheticHead> {
    let sd: Map<string, { shape: readonly number[]; data: unknown }>;
    try {
      sd = await readTorchStateDict(path);
    } catch (e) {
      if (e instanceof TorchFileError) throw new AestheticHeadError(`aesthetic head ${e.message}`);
      throw e;
    }
    const names = [...sd.keys()].filter((k) => k.endsWith('.weight'));
    const index = (k: string) => Number(/\.(\d+)\.weight$/.exec(k)?.[1] ?? Number.NaN);
    names.sort((a, b) => index(a) - index(b));
    const layers: Layer[] = [];
    for (const wName of names) {
      const base = wName.slice(0, -'.weight'.length);
      const w = sd.get(wName)!;
      const b = sd.get(`${base}.bias`);
      if (w.shape.length !== 2 || !b || b.shape.length !== 1 || b.shape[0] !== w.shape[0]) {
        throw new AestheticHeadError(`${path}: ${base} is not a Linear layer (weight [out, in] and bias [out])`);
      }
      layers.push({
        name: base,
        weight: w.data as Float32Array,
        bias: b.data as Float32Array,
        outF: w.shape[0],
        inF: w.shape[1],
      });
    }
    if (layers.length === 0 || names.some((n) => Number.isNaN(index(n)))) {
      throw new AestheticHeadError(
        `${path}: expected numbered Linear layers (layers.0.weight, …), found ${[...sd.keys()].join(', ') || 'nothing'}`,
      );
    }
    for (let i = 1; i < layers.length; i++) {
      if (layers[i].inF !== layers[i - 1].outF) {
        throw new AestheticHeadError(
          `${path}: ${layers[i].name} takes ${layers[i].inF} inputs but ${layers[i - 1].name} gives ${layers[i - 1].outF}`,
        );
      }
    }
    if (layers[layers.length - 1].outF !== 1)
      throw new AestheticHeadError(`${path}: the last layer must have one output`);
    return new AestheticHead(path, layers);
  }

  private check(e: ArrayLike<number>): void {
    if (e.length !== this.inputDim) {
      throw new AestheticHeadError(
        `${this.path} takes a ${this.inputDim}-d CLIP image embedding, got ${e.length}-d (the LAION heads need ViT-L/14)`,
      );
    }
  }

  /** The stated network, layer by layer in float32 like torch (dropout is the identity in eval mode). */
  scoreMlp(normalised: ArrayLike<number>): number {
    this.check(normalised);
    let x = Float32Array.from(normalised);
    for (const l of this.layers) {
      const y = new Float32Array(l.outF);
      for (let o = 0; o < l.outF; o++) {
        let s = 0;
        for (let k = 0; k < l.inF; k++) s += l.weight[o * l.inF + k] * x[k];
        y[o] = s + l.bias[o];
      }
      x = y;
    }
    return x[0];
  }

  /** The collapsed map b + w·e on the L2-normalised embedding (what {@link scoreEmbedding} uses). */
  score(normalised: ArrayLike<number>): number {
    this.check(normalised);
    let s = this.bias;
    for (let i = 0; i < this.w.length; i++) s += this.w[i] * normalised[i];
    return s;
  }

  /** Score of a raw (unnormalised) image embedding: L2-normalise it, then {@link score}. */
  scoreEmbedding(embedding: ArrayLike<number>): number {
    return this.score(l2Normalise(embedding));
  }
}

/** e / ‖e‖₂ (float64). */
export function l2Normalise(e: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < e.length; i++) n += e[i] * e[i];
  const inv = 1 / Math.sqrt(n);
  return Float64Array.from({ length: e.length }, (_, i) => e[i] * inv);
}
