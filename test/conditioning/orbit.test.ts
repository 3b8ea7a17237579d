/**
 * The orbit's camera against the reference script (`simple_video_sample.py`, sv3d_p): the golden set's batch
 * (pipeline-sv3d-tiny, T = 5) and values numpy computes with the script's formulas for other inputs
 * (`np.linspace(0, 360, T + 1)[1:] % 360`, `np.deg2rad(90 − e)`, `np.deg2rad((a − a[-1]) % 360)`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { imageToVideoBatch } from '../../src/conditioning/image-to-video-batch.ts';
import { defaultAzimuthsDeg, orbitAngles, pyMod } from '../../src/conditioning/orbit.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { svdNetworkGraph } from '../../src/models/svd-network.ts';
import { conditionerGraph } from '../../src/pipeline/stages/conditioning.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';
import { readSafetensorsF64 } from '../helpers/golden-any-dtype.ts';

/** numpy (float64), the script's formulas. */
const NP_AZIMUTHS_21 = [
  17.142857142857142, 34.285714285714285, 51.42857142857143, 68.57142857142857, 85.71428571428571, 102.85714285714286,
  120.0, 137.14285714285714, 154.28571428571428, 171.42857142857142, 188.57142857142856, 205.71428571428572,
  222.85714285714286, 240.0, 257.1428571428571, 274.2857142857143, 291.42857142857144, 308.57142857142856,
  325.7142857142857, 342.85714285714283, 0.0,
];
const NP_AZIMUTHS_RAD_21 = [
  0.2991993003418851, 0.5983986006837702, 0.8975979010256552, 1.1967972013675403, 1.4959965017094252,
  1.7951958020513104, 2.0943951023931953, 2.3935944027350806, 2.6927937030769655, 2.9919930034188504,
  3.2911923037607353, 3.5903916041026207, 3.889590904444506, 4.1887902047863905, 4.487989505128275, 4.787188805470161,
  5.086388105812047, 5.385587406153931, 5.684786706495816, 5.983986006837701, 0.0,
];

/** |a − b| ≤ 1 ulp-ish (float64). */
function near(a: readonly number[], b: readonly number[], what: string) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-14 * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

describe('orbit angles (simple_video_sample.py, sv3d_p)', () => {
  test('the golden set: elevation 10, default azimuths for 5 views → its float64 batch', () => {
    const run = readSafetensorsF64(`${GOLDEN_DIR}pipeline-sv3d-tiny/run.safetensors`);
    const manifest = JSON.parse(readFileSync(`${GOLDEN_DIR}pipeline-sv3d-tiny/manifest.json`, 'utf8'));
    const o = orbitAngles(5, 10);
    assert.deepEqual(o.azimuthsDeg, manifest.run.azimuths_deg);
    near(o.polarsRad, [...run.get('batch.polars_rad')!.data], 'polars_rad');
    near(o.azimuthsRad, [...run.get('batch.azimuths_rad')!.data], 'azimuths_rad');
    near(o.azimuthsRad, manifest.run.azimuths_rad, 'manifest azimuths_rad');
    // The same azimuths given explicitly (the golden CLI command's --azimuths 72,144,216,288,0).
    assert.deepEqual(orbitAngles(5, 10, [72, 144, 216, 288, 0]), o);
  });

  test('21 views (the released models): linspace(0, 360, 22)[1:] % 360, relative to the last view', () => {
    near(defaultAzimuthsDeg(21), NP_AZIMUTHS_21, 'azimuths_deg');
    const o = orbitAngles(21);
    near(o.azimuthsRad, NP_AZIMUTHS_RAD_21, 'azimuths_rad');
    assert.deepEqual(o.elevationsDeg, new Array(21).fill(10));
    near(o.polarsRad, new Array(21).fill(1.3962634015954636), 'polars_rad');
  });

  test('given azimuths are taken relative to the last one (Python %), in the order given', () => {
    const o = orbitAngles(5, [-5, 0, 30, 89.5, -90], [10, 50, 100, 200, 30]);
    near(o.azimuthsRad, [5.934119456780721, 0.3490658503988659, 1.2217304763960306, 2.9670597283903604, 0], 'az');
    near(
      o.polarsRad,
      [1.6580627893946132, 1.5707963267948966, 1.0471975511965976, 0.008726646259971648, Math.PI],
      'po',
    );
    // Only the azimuths relative to the last view reach the model: a common offset changes nothing.
    const shifted = orbitAngles(5, 10, [82, 154, 226, 298, 10]);
    near(shifted.azimuthsRad, orbitAngles(5, 10).azimuthsRad, 'shifted');
    assert.equal(pyMod(-20, 360), 340);
    assert.equal(pyMod(720, 360), 0);
  });

  test('wrong counts and values out of range are RangeErrors naming the problem', () => {
    assert.throws(
      () => orbitAngles(5, 10, [0, 90, 180]),
      /give 5 azimuths \(one per view, the last is the input view\), not 3/,
    );
    assert.throws(() => orbitAngles(5, [1, 2]), /give 1 elevation or 5 \(one per view\), not 2/);
    assert.throws(() => orbitAngles(5, 91), /elevation 91° is outside -90° to 90°/);
    assert.throws(() => orbitAngles(3, 0, [0, 400, 0]), /azimuth 400° is outside 0° to 360°/);
  });

  test('the conditioning batch takes the camera for the embedders that read it (float32, as the embedder casts)', () => {
    const image = HostTensor.zeros('float32', [1, 3, 64, 64]);
    const o = orbitAngles(21, 10);
    const micro = { frames: 21, fpsId: 6, motionBucketId: 127, condAug: 1e-5, orbit: o };
    const p = imageToVideoBatch(PRESETS['sv3d-p'].embedders, image, image, micro);
    assert.deepEqual(Object.keys(p).sort(), [
      'azimuths_rad',
      'cond_aug',
      'cond_frames',
      'cond_frames_without_noise',
      'polars_rad',
    ]);
    assert.deepEqual([...p.azimuths_rad.data], o.azimuthsRad.map(Math.fround));
    assert.deepEqual([...p.polars_rad.data], o.polarsRad.map(Math.fround));
    const u = imageToVideoBatch(PRESETS['sv3d-u'].embedders, image, image, micro);
    assert.deepEqual(Object.keys(u).sort(), ['cond_aug', 'cond_frames', 'cond_frames_without_noise']);
    assert.throws(
      () => imageToVideoBatch(PRESETS['sv3d-p'].embedders, image, image, { ...micro, orbit: undefined }),
      /needs the conditioning input "polars_rad".*use svd orbit/,
    );
  });

  test('the released sizes fit together: 21 views at 576×576 (shape-only graphs of the presets)', () => {
    const image = HostTensor.zeros('float32', [1, 3, 576, 576]);
    for (const [name, adm] of [
      ['sv3d-p', 1280],
      ['sv3d-u', 256],
    ] as const) {
      const model = PRESETS[name];
      const micro = { frames: 21, fpsId: 6, motionBucketId: 127, condAug: 1e-5, orbit: orbitAngles(21) };
      const g = conditionerGraph(model, imageToVideoBatch(model.embedders, image, image, micro));
      const shape = (graph: typeof g, out: string) => [
        ...graph.values[graph.outputs.find((o) => o.name === out)!.value].shape,
      ];
      assert.deepEqual(shape(g, 'vector'), [21, adm], name);
      assert.deepEqual(shape(g, 'crossattn'), [1, 1, 1024], name);
      assert.deepEqual(shape(g, 'concat'), [1, 4, 72, 72], name);
      const unet = svdNetworkGraph(model.unet, 42, 21, 72, 72);
      assert.deepEqual([...unet.values[unet.inputs.find((i) => i.name === 'y')!.value].shape], [42, adm], name);
      assert.deepEqual(shape(unet, 'out'), [42, 4, 72, 72], name);
    }
  });
});

test('an orbit request refuses the micro-conditioning SV3D does not read', async () => {
  const { parseOrbitRequest } = await import('../../src/pipeline/orbit-request.ts');
  const { GenerateRequestError } = await import('../../src/pipeline/request.ts');
  for (const [field, value] of [
    ['fps', '8'],
    ['fpsId', '6'],
    ['motionBucket', '100'],
  ] as const) {
    assert.throws(
      () => parseOrbitRequest({ image: ['x.png'], checkpoint: 'c.safetensors', [field]: value }),
      (e) => e instanceof GenerateRequestError && e.issues.some((i) => i.field === field && /SV3D/.test(i.expected)),
      field,
    );
  }
});
