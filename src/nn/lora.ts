/**
 * LoRA — low-rank adaptation (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", arXiv 2106.09685) —
 * at the `Params` level, so that any model code gets it without a change: `withLora(params, set)` is a `Params` whose
 * `get(name, shape)` returns, for a targeted weight W [out, in, …k], the graph expression
 *
 *     W' = W + Σ_adapters factor · reshape(up[out, rank] · down[rank, in·∏k], [out, in, …k])
 *
 * with down [rank, in, …k] and up [out, rank, 1, …] (for a linear weight: down [rank, in], up [out, rank]) as two new
 * weight inputs, and `factor` = (alpha / rank) · scale. This is the merged form of the paper's h = W₀x + BAx (B = up,
 * A = down): for a convolution, a `down` convolution with W's kernel followed by a 1×1 `up` convolution equals one
 * convolution with the kernel above. Untargeted keys pass through unchanged.
 *
 * SVD's camera-motion LoRAs (Blattmann et al., arXiv 2311.15127, §4.3 "camera motion LoRA") adapt the temporal
 * attention of the video transformer blocks; which weights are targeted, and the tensor names, are chosen above this
 * layer (`src/models/lora/`): here a target is just a base key with two factor names.
 *
 * The ParamTree still records the base keys (strict loading is unchanged); the factors go to a separate `loraTree`,
 * so training can make exactly those trainable (`loraWeightsInGraph`).
 */
import type { GraphBuilder, SymTensor } from '../graph/builder.ts';
import { GraphError } from '../graph/errors.ts';
import type { Graph } from '../graph/ir.ts';
import * as op from '../graph/ops/index.ts';
import { formatShape, numel, type Shape, shapesEqual } from '../tensor/shape.ts';
import { Params, ParamTree } from './params.ts';

/** One low-rank adapter on one base weight. */
export interface LoraAdapter {
  /** Key of the adapted weight, e.g. `model.diffusion_model.….attn1.to_q.weight`. */
  readonly base: string;
  /** Shape of the base weight: [out, in] (linear) or [out, in, …k] (convolution). */
  readonly shape: Shape;
  /** Weight names of the factors: down [rank, in, …k], up [out, rank, 1, …]. */
  readonly down: string;
  readonly up: string;
  readonly rank: number;
  /** The multiplier of up·down: (alpha / rank) · scale. */
  readonly factor: number;
}

/** Shapes of the two factors of a rank-`rank` adapter on a weight of `shape` ([out, in, …k]). */
export function loraFactorShapes(shape: Shape, rank: number): { down: Shape; up: Shape } {
  if (shape.length < 2) throw new GraphError(`LoRA needs a weight of rank ≥ 2, got ${formatShape(shape)}`);
  if (!Number.isSafeInteger(rank) || rank < 1)
    throw new GraphError(`LoRA rank must be a positive integer, got ${rank}`);
  const [out, inC, ...k] = shape;
  return { down: [rank, inC, ...k], up: [out, rank, ...k.map(() => 1)] };
}

/** The adapters of a model, by base key; factor names are unique. */
export class LoraSet {
  private readonly byBase = new Map<string, LoraAdapter[]>();

  constructor(readonly adapters: readonly LoraAdapter[]) {
    const names = new Set<string>();
    for (const a of adapters) {
      loraFactorShapes(a.shape, a.rank);
      if (!Number.isFinite(a.factor)) throw new GraphError(`LoRA on "${a.base}": factor ${a.factor} is not finite`);
      for (const n of [a.down, a.up]) {
        if (names.has(n)) throw new GraphError(`LoRA factor name "${n}" is used twice`);
        names.add(n);
      }
      const list = this.byBase.get(a.base) ?? [];
      if (list.length > 0 && !shapesEqual(list[0].shape, a.shape)) {
        throw new GraphError(`LoRA adapters on "${a.base}" disagree on its shape`);
      }
      list.push(a);
      this.byBase.set(a.base, list);
    }
  }

  /** The adapters on base key `key` (none: the key passes through). */
  for(key: string): readonly LoraAdapter[] {
    return this.byBase.get(key) ?? [];
  }

  /** Base keys with at least one adapter. */
  bases(): string[] {
    return [...this.byBase.keys()];
  }
}

/** Names of every LoRA factor of the set (down, up per adapter): what a LoRA training run makes trainable. */
export function loraParamNames(set: LoraSet): string[] {
  return set.adapters.flatMap((a) => [a.down, a.up]);
}

/** reshape(up[out, rank] · down[rank, in·∏k], shape): the low-rank update of a weight of `shape`, unscaled. */
export function loraDelta(up: SymTensor, down: SymTensor, shape: Shape): SymTensor {
  const [out, rank] = up.shape;
  const u = op.reshape(up, [out, rank]);
  const d = op.reshape(down, [rank, numel(shape) / out]);
  return op.reshape(op.matmul(u, d), [...shape]);
}

/** `Params` with LoRA: targeted weights come back as W + Σ factor · up·down (see the file comment). */
export class LoraParams extends Params {
  constructor(
    builder: GraphBuilder,
    prefix: string,
    tree: ParamTree,
    readonly lora: LoraSet,
    /** The LoRA factors (name → shape) of every targeted weight the model has, read or only declared. */
    readonly loraTree: ParamTree,
  ) {
    super(builder, prefix, tree);
  }

  override pp(name: string | number): LoraParams {
    return new LoraParams(this.builder, this.key(String(name)), this.tree, this.lora, this.loraTree);
  }

  override get(name: string, shape: Shape): SymTensor {
    const w = super.get(name, shape);
    let out = w;
    for (const a of this.adapters(name, shape)) {
      const f = loraFactorShapes(shape, a.rank);
      const delta = loraDelta(this.builder.weight(a.up, f.up), this.builder.weight(a.down, f.down), shape);
      out = op.add(out, op.mul(delta, a.factor));
    }
    return out;
  }

  override declare(name: string, shape: Shape): void {
    super.declare(name, shape);
    this.adapters(name, shape);
  }

  /** Adapters on `name` (shape-checked), their factors recorded in `loraTree`. */
  private adapters(name: string, shape: Shape): readonly LoraAdapter[] {
    const key = this.key(name);
    const list = this.lora.for(key);
    for (const a of list) {
      if (!shapesEqual(a.shape, shape)) {
        throw new GraphError(
          `LoRA on "${key}" is for ${formatShape(a.shape)}, the model's weight is ${formatShape(shape)}`,
        );
      }
      const f = loraFactorShapes(shape, a.rank);
      this.loraTree.record(a.down, f.down);
      this.loraTree.record(a.up, f.up);
    }
    return list;
  }

  /** Adapters whose base weight the model has not asked for so far (after a build: targets the model lacks). */
  unused(): LoraAdapter[] {
    return this.lora.adapters.filter((a) => !this.loraTree.shapes.has(a.down));
  }
}

/** `params` with the adapters of `set` applied to its weights (same builder, prefix and ParamTree). */
export function withLora(params: Params, set: LoraSet, loraTree = new ParamTree()): LoraParams {
  if (params instanceof LoraParams) throw new GraphError('withLora: these Params already carry a LoRA set');
  return new LoraParams(params.builder, params.prefix, params.tree, set, loraTree);
}

/**
 * The LoRA factors that are weights of `graph`: the names to make trainable. A targeted weight the computation
 * only declares (e.g. `attn2.to_q` / `to_k` of SVD's single-token cross-attention, whose output does not depend on
 * them) has no factor inputs: its gradient is zero by construction.
 */
export function loraWeightsInGraph(graph: Graph, set: LoraSet): string[] {
  const weights = new Set(graph.inputs.filter((i) => i.kind === 'weight').map((i) => i.name));
  return loraParamNames(set).filter((n) => weights.has(n));
}
