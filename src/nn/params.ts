/**
 * Parameters by checkpoint path (candle's `VarBuilder.pp` idea): a model's module nesting mirrors the sgm
 * single-file layout, so `p.pp('input_blocks').pp(1).get('weight', shape)` asks for the weight
 * `model.diffusion_model.input_blocks.1.weight` — no rename table.
 *
 * Every parameter a module *has* is recorded in the ParamTree, including the ones an exact shortcut does not read
 * (e.g. `attn2.to_q` when attending to a single context token): strict loading and the manifest checks compare the
 * checkpoint against the tree, while the graph only takes the weights it uses as inputs.
 */

import type { GraphBuilder, SymTensor } from '../graph/builder.ts';
import { GraphError } from '../graph/errors.ts';
import { formatShape, type Shape } from '../tensor/shape.ts';

export class ParamTree {
  /** Parameter key → shape, in declaration order. */
  readonly shapes = new Map<string, Shape>();

  record(key: string, shape: Shape): void {
    const prev = this.shapes.get(key);
    if (prev && formatShape(prev) !== formatShape(shape)) {
      throw new GraphError(`parameter "${key}" declared as ${formatShape(prev)} and as ${formatShape(shape)}`);
    }
    if (!prev) this.shapes.set(key, Object.freeze([...shape]));
  }

  /** Total number of elements. */
  count(prefix = ''): number {
    let n = 0;
    for (const [k, s] of this.shapes) if (k.startsWith(prefix)) n += s.reduce((a, d) => a * d, 1);
    return n;
  }
}

export class Params {
  constructor(
    readonly builder: GraphBuilder,
    readonly prefix = '',
    readonly tree = new ParamTree(),
  ) {}

  /** The sub-module at `name`. */
  pp(name: string | number): Params {
    return new Params(this.builder, this.key(String(name)), this.tree);
  }

  key(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  /** A parameter used by the graph: recorded, and a weight input named by its full key. */
  get(name: string, shape: Shape): SymTensor {
    const key = this.key(name);
    this.tree.record(key, shape);
    return this.builder.weight(key, shape);
  }

  /** A parameter the module has but this computation does not read (recorded only). */
  declare(name: string, shape: Shape): void {
    this.tree.record(this.key(name), shape);
  }
}
