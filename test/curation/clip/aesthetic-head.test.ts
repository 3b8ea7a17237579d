/**
 * The LAION aesthetic head read from a torch.save .pth in Node: the fixture head (improved-aesthetic-predictor's
 * layer structure, narrower; made and run by scripts/make-clip-vectors.py with torch 1.13) gives torch's outputs;
 * the stated MLP (layer by layer) and the collapsed affine map b + w·e agree; and, when the real
 * `sac+logos+ava1-l14-linearMSE.pth` is on this machine (SVD_AESTHETIC_HEAD, default ../shared/models/laion-aesthetic/
 * next to the repository; never committed), its layers are 768→1024→128→64→16→1, the collapsed bias is 5.2366,
 * ‖w‖ = 18.0, and both forms agree on random unit vectors. The .pth reader refuses pickles that name other globals.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AestheticHead, AestheticHeadError, l2Normalise } from '../../../src/curation/clip/aesthetic-head.ts';
import { Rng } from '../../../src/tensor/rng.ts';
import { readTorchStateDict, readZipEntries, TorchFileError } from '../../../src/weights/torch-zip.ts';

const FIX = fileURLToPath(new URL('../../fixtures/curation/aesthetic/', import.meta.url));
const REAL =
  process.env.SVD_AESTHETIC_HEAD ??
  fileURLToPath(new URL('../../../../shared/models/laion-aesthetic/sac+logos+ava1-l14-linearMSE.pth', import.meta.url));

function randomUnit(n: number, seed: number): Float64Array {
  return l2Normalise(new Rng(seed).randn('aesthetic', [n]).data as Float32Array);
}

/** A stored (uncompressed) zip of the given entries. */
function storedZip(entries: Record<string, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const n = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + n.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, n.length, true);
    local.set(n, 30);
    const c = new Uint8Array(46 + n.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, n.length, true);
    cv.setUint32(42, offset, true);
    c.set(n, 46);
    parts.push(local, data);
    central.push(c);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, central.length, true);
  ev.setUint16(10, central.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((a, p) => a + p.length, 0));
  let p = 0;
  for (const a of all) {
    out.set(a, p);
    p += a.length;
  }
  return out;
}

describe('LAION aesthetic head', () => {
  test('fixture .pth: torch.save state dict read in Node, outputs equal torch', async () => {
    const sd = await readTorchStateDict(`${FIX}aesthetic-tiny.pth`);
    assert.deepEqual(
      [...sd].map(([k, t]) => `${k} ${t.shape.join('x')}`),
      [
        'layers.0.weight 12x16',
        'layers.0.bias 12',
        'layers.2.weight 8x12',
        'layers.2.bias 8',
        'layers.4.weight 6x8',
        'layers.4.bias 6',
        'layers.6.weight 4x6',
        'layers.6.bias 4',
        'layers.7.weight 1x4',
        'layers.7.bias 1',
      ],
    );
    const head = await AestheticHead.load(`${FIX}aesthetic-tiny.pth`);
    assert.equal(head.inputDim, 16);
    const ref = JSON.parse(readFileSync(`${FIX}aesthetic-tiny.json`, 'utf8')) as {
      inputs: number[][];
      outputs: number[];
    };
    let worst = 0;
    ref.inputs.forEach((x, i) => {
      const scale = Math.max(1, Math.abs(ref.outputs[i]));
      worst = Math.max(worst, Math.abs(head.scoreMlp(x) - ref.outputs[i]) / scale);
      assert.ok(Math.abs(head.score(x) - ref.outputs[i]) <= 1e-5 * scale, `collapsed map, input ${i}`);
    });
    assert.ok(worst <= 1e-6, `layer-by-layer forward vs torch: ${worst}`);
    console.log(`  tiny head: MLP vs torch ${worst.toExponential(2)}`);
  });

  test('the stated MLP reduces to one affine map (no activations): b + w·e', async () => {
    const head = await AestheticHead.load(`${FIX}aesthetic-tiny.pth`);
    for (let s = 0; s < 20; s++) {
      const e = randomUnit(16, s);
      assert.ok(Math.abs(head.score(e) - head.scoreMlp(e)) <= 1e-5 * Math.max(1, Math.abs(head.score(e))));
    }
    // Linearity of the MLP itself: f(a) + f(b) − f(0) = f(a + b).
    const a = randomUnit(16, 100);
    const b = randomUnit(16, 101);
    const sum = a.map((v, i) => v + b[i]);
    const zero = new Float64Array(16);
    const lhs = head.scoreMlp(a) + head.scoreMlp(b) - head.scoreMlp(zero);
    assert.ok(Math.abs(lhs - head.scoreMlp(sum)) <= 1e-4 * Math.max(1, Math.abs(lhs)));
    assert.throws(() => head.score(new Float64Array(8)), AestheticHeadError);
  });

  test('the real sac+logos+ava1-l14-linearMSE.pth (user-given; skipped when absent)', {
    skip: !existsSync(REAL),
  }, async () => {
    const head = await AestheticHead.load(REAL);
    assert.equal(
      head.describe(),
      'layers.0 768→1024, layers.2 1024→128, layers.4 128→64, layers.6 64→16, layers.7 16→1',
    );
    const norm = Math.hypot(...head.w);
    assert.ok(Math.abs(head.bias - 5.2366) < 5e-4, `bias ${head.bias}`);
    assert.ok(Math.abs(norm - 18.0) < 0.05, `‖w‖ ${norm}`);
    let worst = 0;
    for (let s = 0; s < 10; s++) {
      const e = randomUnit(768, s);
      worst = Math.max(worst, Math.abs(head.score(e) - head.scoreMlp(e)));
    }
    assert.ok(worst < 1e-4, `MLP vs affine map: ${worst}`);
    console.log(
      `  real head: b = ${head.bias.toFixed(5)}, ‖w‖ = ${norm.toFixed(4)}, MLP vs affine ≤ ${worst.toExponential(2)}`,
    );
  });

  test('the .pth reader refuses other globals and non-zip files', async () => {
    // protocol 2: GLOBAL 'os system', EMPTY_TUPLE, REDUCE, STOP
    const pkl = Uint8Array.from([0x80, 2, ...new TextEncoder().encode('cos\nsystem\n'), 0x29, 0x52, 0x2e]);
    const zip = storedZip({ 'archive/data.pkl': pkl });
    assert.equal(readZipEntries(zip).size, 1);
    await assert.rejects(
      readTorchStateDict(zip),
      (e: unknown) => e instanceof TorchFileError && /os\.system/.test(e.message),
    );
    await assert.rejects(readTorchStateDict(new Uint8Array(100)), /not a zip archive/);
    await assert.rejects(AestheticHead.load(`${FIX}aesthetic-tiny.json`), AestheticHeadError);
  });
});
