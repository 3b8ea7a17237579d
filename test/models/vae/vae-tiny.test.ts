/**
 * VAE parity with the reference vectors of test/fixtures/golden/vae-tiny (Stability-AI/generative-models @ 059d8e9):
 * the conditioning `AutoencoderKLModeOnly` (encoder + quant_conv → posterior mean) and the temporal `VideoDecoder`,
 * decoded whole (timesteps = T) and in chunks of 2 (`decode_first_stage`), with every dumped intermediate.
 * Golden rule: max|mine − ref| / max|ref| ≤ 1e-4 for whole networks and intermediates.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GraphBuilder, type SymTensor } from '../../../src/graph/builder.ts';
import { interpret } from '../../../src/graph/interpret.ts';
import { encodeModeOnly } from '../../../src/models/vae/autoencoder.ts';
import { frameChunks, VideoDecodeRunner } from '../../../src/models/vae/chunked-decode.ts';
import { autoencoderKLFromSgm, ddconfigFromSgm } from '../../../src/models/vae/config.ts';
import { DiagonalGaussian } from '../../../src/models/vae/gaussian.ts';
import { buildVideoDecoder } from '../../../src/models/vae/video-decoder.ts';
import { Params } from '../../../src/nn/params.ts';
import type { Engine } from '../../../src/runtime/engine.ts';
import { HostTensor } from '../../../src/tensor/host-tensor.ts';
import { assertClose } from '../../helpers/compare.ts';
import { createTestEngine } from '../../helpers/engine.ts';
import { GOLDEN_DIR, loadGolden } from '../../helpers/golden.ts';
import { PARITY } from '../../helpers/parity-bounds.ts';
import { randn } from '../../helpers/random.ts';

const TOL = PARITY.vae; // README: VAE parity (golden ceiling 1e-4)
const ENC_PREFIX = 'conditioner.embedders.3.encoder';
const DEC_PREFIX = 'first_stage_model.decoder';

const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}vae-tiny/manifest.json`, 'utf8'));
const encCfg = autoencoderKLFromSgm(manifest.encoder_config.params);
const decCfg = ddconfigFromSgm(manifest.decoder_config.params);
const T: number = manifest.T;

/** Collects tapped intermediates under the golden names (`enc.<path>` / `dec.<path>`). */
function tapInto(found: Map<string, SymTensor>, modulePrefix: string, goldenPrefix: string) {
  return (path: string, v: SymTensor) => {
    assert.ok(path.startsWith(`${modulePrefix}.`), `tap outside the module: ${path}`);
    found.set(`${goldenPrefix}.${path.slice(modulePrefix.length + 1)}`, v);
  };
}

/** Outputs every golden intermediate with the given name prefix; fails if the model does not produce one. */
function outputIntermediates(
  b: GraphBuilder,
  found: Map<string, SymTensor>,
  golden: Map<string, HostTensor>,
  prefix: string,
): string[] {
  const names = [...golden.keys()].filter((n) => n.startsWith(prefix));
  assert.ok(names.length > 0, `no golden intermediates named ${prefix}*`);
  for (const n of names) {
    const v = found.get(n);
    assert.ok(v, `the model does not produce the intermediate ${n}`);
    b.output(n, v);
  }
  return names;
}

describe('vae-tiny parity', () => {
  let engine: Engine;
  let io: Map<string, HostTensor>;
  let inter: Map<string, HostTensor>;
  let weights: Map<string, HostTensor>;

  before(async () => {
    engine = await createTestEngine();
    io = await loadGolden('vae-tiny/io.safetensors');
    inter = await loadGolden('vae-tiny/intermediates.safetensors');
    weights = await loadGolden('vae-tiny/weights.safetensors');
    await engine.setWeights(weights);
  });
  after(async () => {
    await engine.dispose();
  });

  test('conditioning encoder (AutoencoderKLModeOnly): moments, mean and every enc.* intermediate', async (t) => {
    const image = io.get('image')!;
    const b = new GraphBuilder('vae_tiny_encoder');
    const found = new Map<string, SymTensor>();
    const p = new Params(b, ENC_PREFIX);
    const mean = encodeModeOnly(p, b.input('image', image.shape), encCfg, { tap: tapInto(found, ENC_PREFIX, 'enc') });
    b.output('latent_mean', mean);
    b.output('moments', found.get('enc.quant_conv')!);
    const names = outputIntermediates(b, found, inter, 'enc.');
    const out = await engine.run(b.build(), { image });

    // The ParamTree of the encode path is exactly the weights file's conditioner part.
    const want = [...weights.keys()].filter((k) => k.startsWith(`${ENC_PREFIX}.`)).sort();
    assert.deepEqual([...p.tree.shapes.keys()].sort(), want);
    for (const [k, s] of p.tree.shapes) assert.deepEqual([...s], [...weights.get(k)!.shape], k);

    for (const n of ['moments', 'latent_mean']) {
      t.diagnostic(`${n}: ${assertClose(out[n], io.get(n)!, TOL, n).toExponential(2)}`);
    }
    for (const n of names) t.diagnostic(`${n}: ${assertClose(out[n], inter.get(n)!, TOL, n).toExponential(2)}`);
  });

  test('video decoder, all frames in one call (timesteps = T): frames and every dec.* intermediate', async (t) => {
    const z = io.get('latent')!;
    const b = new GraphBuilder('vae_tiny_video_decoder');
    const found = new Map<string, SymTensor>();
    const p = new Params(b, DEC_PREFIX);
    b.output(
      'frames',
      buildVideoDecoder(p, b.input('z', z.shape), decCfg, T, { tap: tapInto(found, DEC_PREFIX, 'dec') }),
    );
    const names = outputIntermediates(b, found, inter, 'dec.');
    const out = await engine.run(b.build(), { z });

    const want = [...weights.keys()].filter((k) => k.startsWith(`${DEC_PREFIX}.`)).sort();
    assert.deepEqual([...p.tree.shapes.keys()].sort(), want);
    for (const [k, s] of p.tree.shapes) assert.deepEqual([...s], [...weights.get(k)!.shape], k);

    t.diagnostic(`frames: ${assertClose(out.frames, io.get('frames')!, TOL, 'frames').toExponential(2)}`);
    for (const n of names) t.diagnostic(`${n}: ${assertClose(out[n], inter.get(n)!, TOL, n).toExponential(2)}`);
  });

  test('video decoder in chunks (decode_first_stage with 2 frames a time)', async (t) => {
    const chunks: number[] = manifest.chunks;
    assert.ok(
      chunks.every((c) => c === chunks[0]),
      'equal chunks expected',
    );
    const runner = new VideoDecodeRunner(engine, { config: decCfg, scaleFactor: 1, decodeChunk: chunks[0] });
    const frames = await runner.decode(io.get('latent')!);
    t.diagnostic(
      `frames_chunked: ${assertClose(frames, io.get('frames_chunked')!, TOL, 'frames_chunked').toExponential(2)}`,
    );
    assert.equal(runner.graphCount, 1, 'one graph per distinct chunk length');
    // Chunked decoding is a different computation (no temporal context across the border): it must not equal the
    // whole-sequence decode, and the chunked reference indeed differs from it by far more than the tolerance.
    assert.ok(assertCloseFails(frames, io.get('frames')!), 'chunked decode should differ from the whole decode');

    // One call for all rows reproduces the whole-sequence output.
    const whole = await new VideoDecodeRunner(engine, { config: decCfg, scaleFactor: 1 }).decode(io.get('latent')!);
    assertClose(whole, io.get('frames')!, TOL, 'frames via VideoDecodeRunner without chunking');
  });

  test('uneven chunks (3 + 1): one graph per length, each chunk decoded on its own', async () => {
    const z = io.get('latent')!;
    const runner = new VideoDecodeRunner(engine, { config: decCfg, scaleFactor: 1, decodeChunk: 3 });
    const frames = await runner.decode(z);
    assert.equal(runner.graphCount, 2);
    const rowsOf = (x: HostTensor, start: number, n: number) => {
      const row = x.size / x.shape[0];
      return new HostTensor(
        'float32',
        [n, ...x.shape.slice(1)],
        (x.data as Float32Array).slice(start * row, (start + n) * row),
      );
    };
    const single = new VideoDecodeRunner(engine, { config: decCfg, scaleFactor: 1 });
    const first = await single.decode(rowsOf(z, 0, 3));
    const last = await single.decode(rowsOf(z, 3, 1));
    assert.deepEqual([...rowsOf(frames, 0, 3).data], [...first.data]);
    assert.deepEqual([...rowsOf(frames, 3, 1).data], [...last.data]);
  });

  test('scale factor: decoding scale·z with scaleFactor = scale reproduces the frames', async () => {
    const scale = 0.18215;
    const z = io.get('latent')!;
    const scaled = new HostTensor(
      'float32',
      z.shape,
      (z.data as Float32Array).map((v) => v * scale),
    );
    const runner = new VideoDecodeRunner(engine, { config: decCfg, scaleFactor: scale, decodeChunk: 2 });
    assertClose(await runner.decode(scaled), io.get('frames_chunked')!, TOL, 'frames_chunked from scaled latent');
  });

  // The ONNX lowering against the float64 interpreter on the same graphs, on well and badly centred inputs (mean 300:
  // every GroupNorm then sees a large mean; norm_out brings the output back to O(1), so errors are not hidden).
  for (const shift of [0, 300]) {
    test(`engine vs float64 interpreter, inputs with mean ${shift}`, async (t) => {
      const image = randn([1, 3, 32, 32], 1, shift);
      const z = randn([T, 4, 4, 4], 1, shift);
      const b = new GraphBuilder(`vae_tiny_xcheck_${shift}`);
      b.output('mean', encodeModeOnly(new Params(b, ENC_PREFIX), b.input('image', image.shape), encCfg));
      b.output('frames', buildVideoDecoder(new Params(b, DEC_PREFIX), b.input('z', z.shape), decCfg, 2));
      const g = b.build();
      const feeds: Record<string, HostTensor> = { image, z };
      for (const i of g.inputs) if (i.kind === 'weight') feeds[i.name] = weights.get(i.name)!;
      const ref = interpret(g, feeds);
      const out = await engine.run(g, { image, z });
      for (const n of ['mean', 'frames']) {
        t.diagnostic(`${n}: ${assertClose(out[n], ref[n], 1e-5, n).toExponential(2)}`);
      }
    });
  }
});

function assertCloseFails(a: HostTensor, b: HostTensor): boolean {
  try {
    assertClose(a, b, TOL);
    return false;
  } catch {
    return true;
  }
}

describe('DiagonalGaussian', () => {
  test('mode, clamped logvar and sample', async () => {
    const engine = await createTestEngine();
    try {
      const b = new GraphBuilder('gaussian');
      const moments = b.input('m', [1, 4, 1, 2]);
      const noise = b.input('n', [1, 2, 1, 2]);
      const g = new DiagonalGaussian(moments);
      b.output('mode', g.mode());
      b.output('logvar', g.logvar);
      b.output('sample', g.sample(noise));
      // mean = [[1, 2], [3, 4]]; logvar = [[-40, 0], [2, 25]] → clamped [[-30, 0], [2, 20]]
      const m = HostTensor.float32([1, 4, 1, 2], [1, 2, 3, 4, -40, 0, 2, 25]);
      const n = HostTensor.float32([1, 2, 1, 2], [1, 1, -1, 0.5]);
      const out = await engine.run(b.build(), { m, n });
      assert.deepEqual([...out.mode.data], [1, 2, 3, 4]);
      assert.deepEqual([...out.logvar.data], [-30, 0, 2, 20]);
      const std = [-30, 0, 2, 20].map((l) => Math.fround(Math.exp(0.5 * l)));
      const want = [1 + std[0], 2 + std[1], 3 - std[2], 4 + 0.5 * std[3]];
      Array.from(out.sample.data as Float32Array).forEach((v, i) => {
        assert.ok(Math.abs(v - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])), `sample[${i}] ${v} vs ${want[i]}`);
      });
    } finally {
      await engine.dispose();
    }
  });
});

describe('frameChunks (decode_first_stage chunking)', () => {
  test('ceil(n / chunk) consecutive chunks, the last one shorter', () => {
    assert.deepEqual(frameChunks(25, 14), [
      { start: 0, length: 14 },
      { start: 14, length: 11 },
    ]);
    assert.deepEqual(frameChunks(14, 14), [{ start: 0, length: 14 }]);
    assert.deepEqual(frameChunks(4, 14), [{ start: 0, length: 4 }]);
    assert.deepEqual(
      frameChunks(4, 2).map((c) => c.length),
      [2, 2],
    );
    assert.throws(() => frameChunks(4, 0), RangeError);
  });
});
