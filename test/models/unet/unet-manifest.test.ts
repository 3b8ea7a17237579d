/**
 * The full-size SVD UNet, built shape-only (builder only, never run): its ParamTree must be exactly the 1428 keys and
 * shapes of test/fixtures/golden/manifests/unet_keys_svd.tsv (enumerated from the reference module tree) with
 * 1,524,623,082 parameters (svd-spec.md §3.4), and the build must take seconds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { SVD_UNET_CONFIG } from '../../../src/models/unet/config.ts';
import { buildVideoUNet, declareVideoUNetParams } from '../../../src/models/unet/video-unet.ts';
import { Params } from '../../../src/nn/params.ts';
import { formatShape } from '../../../src/tensor/shape.ts';
import { GOLDEN_DIR } from '../../helpers/golden.ts';

const PREFIX = 'model.diffusion_model';

/** `key<TAB>(1280, 320)` rows → key → "[1280, 320]". */
function readKeyTable(path: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const [key, shape] = line.split('\t');
    const dims = shape
      .replace(/[()]/g, '')
      .split(',')
      .map((d) => d.trim())
      .filter((d) => d !== '')
      .map(Number);
    rows.set(key, formatShape(dims));
  }
  return rows;
}

describe('SVD UNet manifest (shape-only)', () => {
  test('declareVideoUNetParams(SVD_UNET_CONFIG) = unet_keys_svd.tsv: 1428 keys, shapes, 1,524,623,082 params', () => {
    const ref = readKeyTable(`${GOLDEN_DIR}manifests/unet_keys_svd.tsv`);
    assert.equal(ref.size, 1428);
    const start = performance.now();
    const p = new Params(new GraphBuilder('svd-unet-params'), PREFIX);
    const tree = declareVideoUNetParams(p, SVD_UNET_CONFIG);
    const ms = performance.now() - start;
    const mine = new Map([...tree.shapes].map(([k, s]) => [k, formatShape(s)]));
    const missing = [...ref.keys()].filter((k) => !mine.has(k));
    const extra = [...mine.keys()].filter((k) => !ref.has(k));
    assert.deepEqual(missing, [], 'manifest keys the model does not have');
    assert.deepEqual(extra, [], 'model keys the manifest does not have');
    for (const [k, s] of ref) assert.equal(mine.get(k), s, `shape of ${k}`);
    assert.equal(tree.count(), 1_524_623_082);
    assert.ok(ms < 5000, `shape-only build took ${ms.toFixed(0)} ms`);
  });

  test('the 576×1024 graph for 14 frames (CFG batch of 2 videos) builds in seconds with the expected output', () => {
    const t = 14;
    const n = 2 * t;
    const start = performance.now();
    const b = new GraphBuilder('svd-unet-576x1024');
    const out = buildVideoUNet(
      new Params(b, PREFIX),
      {
        x: b.input('x', [n, 8, 72, 128]),
        timesteps: b.input('timesteps', [n]),
        context: b.input('context', [n, 1, 1024]),
        y: b.input('y', [n, 768]),
        imageOnlyIndicator: b.input('image_only_indicator', [2, t]),
      },
      SVD_UNET_CONFIG,
      t,
    );
    b.output('out', out);
    const graph = b.build();
    const ms = performance.now() - start;
    assert.deepEqual([...out.shape], [n, 4, 72, 128]);
    // Every weight the graph reads is a checkpoint key (to_q/to_k/norm2 of the one-token attentions are not read).
    const read = new Set(graph.inputs.filter((i) => i.kind === 'weight').map((i) => i.name));
    const declared = new Params(new GraphBuilder('svd-unet-params'), PREFIX);
    const all = [...declareVideoUNetParams(declared, SVD_UNET_CONFIG).shapes.keys()];
    for (const k of read) assert.ok(all.includes(k), `weight input ${k} is no parameter`);
    const unread = all.filter((k) => !read.has(k));
    assert.ok(
      unread.every((k) => /\.(attn2\.to_[qk]\.weight|norm2\.(weight|bias))$/.test(k)),
      unread.join(', '),
    );
    assert.equal(unread.length, 16 * 2 * 4); // 16 transformers × (spatial, temporal) × (to_q, to_k, norm2 ×2)
    assert.ok(ms < 5000, `build took ${ms.toFixed(0)} ms`);
  });
});
