/**
 * sgm ⇄ diffusers key rules: they reproduce every row of the reference key-map tables (released SVD config) in both
 * directions, and they are a bijection on the tiny checkpoint, whose block counts differ from the released model.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { inferenceIgnoreGroups } from '../../src/models/declare-params.ts';
import { keyLayoutForModel } from '../../src/models/diffusers-config.ts';
import { PRESETS } from '../../src/models/presets.ts';
import { loadModelConfig } from '../../src/models/reference/model-config.ts';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import { ignoreMatcher } from '../../src/weights/checkpoint-check.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';
import {
  fromTargetParts,
  SPLIT_QKV,
  SQUEEZE,
  sourceShape,
  TRANSPOSE,
  targetShape,
  toTargetParts,
} from '../../src/weights/key-maps/transforms.ts';
import {
  type DiffusersComponent,
  type DiffusersKeyLayout,
  diffusersKeyToSgm,
  sgmKeyToDiffusers,
} from '../../src/weights/layouts/diffusers-layout.ts';
import { GOLDEN_DIR } from '../helpers/golden.ts';

const MANIFESTS = `${GOLDEN_DIR}manifests/`;
const TINY = `${GOLDEN_DIR}pipeline-tiny/`;

interface KeymapRow {
  sgm: string;
  shape: string;
  target: string;
  note: string;
}

/** Rows of a key-map table: `sgm key<TAB>shape<TAB>target key[ note][<TAB>transform]`, `# ` lines skipped. */
function readKeymap(name: string): KeymapRow[] {
  const rows: KeymapRow[] = [];
  for (const line of readFileSync(`${MANIFESTS}${name}`, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [sgm, shape, targetField, transform = ''] = line.split('\t');
    const [target, ...note] = targetField.trim().split(/\s+/);
    rows.push({ sgm, shape, target, note: [note.join(' '), transform].join(' ').trim() });
  }
  return rows;
}

/** The diffusers VAE takes its encoder from the conditioning autoencoder (the table's sgm column names the first stage's). */
function vaeSource(sgm: string): string {
  const firstStageEncoder = 'first_stage_model.encoder.';
  return sgm.startsWith(firstStageEncoder)
    ? `conditioner.embedders.3.encoder.encoder.${sgm.slice(firstStageEncoder.length)}`
    : sgm;
}

function checkTable(name: string, component: DiffusersComponent, layout: DiffusersKeyLayout, expectedRows: number) {
  const rows = readKeymap(name);
  assert.equal(rows.length, expectedRows, `${name} rows`);
  const failures: string[] = [];
  for (const row of rows) {
    const sgm = component === 'vae' ? vaeSource(row.sgm) : row.sgm;
    const placement = sgmKeyToDiffusers(sgm, layout);
    if (!placement || placement.component !== component || !placement.keys.includes(row.target)) {
      failures.push(`${sgm} → ${JSON.stringify(placement)} (table: ${row.target})`);
      continue;
    }
    const back = diffusersKeyToSgm(component, row.target, layout);
    if (back.kind !== 'sgm' || back.key !== sgm || placement.keys[back.part] !== row.target) {
      failures.push(`${row.target} ← ${JSON.stringify(back)} (table: ${sgm})`);
    }
    // The table's transform notes agree with the rule's transform.
    const kind = placement.transform.kind;
    const noted = /rows \[/.test(row.note)
      ? 'split'
      : /transpose/.test(row.note)
        ? 'transpose'
        : /squeeze/.test(row.note)
          ? 'squeeze'
          : 'copy';
    if (kind !== noted) failures.push(`${sgm}: rule transform ${kind}, table says "${row.note}"`);
    if (kind === 'split') {
      const part = /rows \[(\d+):(\d+)\]/.exec(row.note);
      const rowsPerPart = Number(/\((\d+)/.exec(row.shape)?.[1]) / 3;
      assert.ok(part);
      assert.equal(Number(part[1]), back.kind === 'sgm' ? back.part * rowsPerPart : -1, row.target);
    }
  }
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} rows of ${name} not reproduced`);
}

describe('key rules reproduce the reference tables (released SVD config)', () => {
  const layout = keyLayoutForModel(PRESETS.svd);
  test('svd-unet-keymap.tsv: 1428 rows', () => checkTable('svd-unet-keymap.tsv', 'unet', layout, 1428));
  test('svd-vae-keymap.tsv: 374 rows (encoder taken from conditioner.embedders.3)', () =>
    checkTable('svd-vae-keymap.tsv', 'vae', layout, 374));
  test('svd-clip-keymap.tsv: 520 rows (q/k/v split, projection transposed)', () =>
    checkTable('svd-clip-keymap.tsv', 'image_encoder', layout, 520));
});

describe('key rules on the tiny checkpoint (model_channels 32, channel_mult [1,2], 1 res block, VAE ch_mult [1,1,1,1])', () => {
  const model = loadModelConfig(`${TINY}config.json`);
  const layout = keyLayoutForModel(model);

  test('are a bijection: every held key maps to distinct targets that map back; the rest is what the reference ignores', async () => {
    const file = await SafetensorsFile.open(`${TINY}checkpoint.safetensors`);
    const keys = file.names();
    await file.close();
    assert.equal(keys.length, 1073);
    const targets = new Map<string, string>();
    const unplaced: string[] = [];
    const ignoredBy = inferenceIgnoreGroups(model).flatMap((g) => g.patterns.map(ignoreMatcher));
    for (const key of keys) {
      const placement = sgmKeyToDiffusers(key, layout);
      if (!placement) {
        unplaced.push(key);
        continue;
      }
      placement.keys.forEach((target, part) => {
        const id = `${placement.component}/${target}`;
        assert.ok(!targets.has(id), `${key} and ${targets.get(id)} both map to ${id}`);
        targets.set(id, key);
        const back = diffusersKeyToSgm(placement.component, target, layout);
        assert.deepEqual(back, { kind: 'sgm', key, part, transform: placement.transform }, id);
      });
    }
    assert.equal(unplaced.length, 180);
    assert.deepEqual(
      unplaced.filter((k) => !ignoredBy.some((m) => m(k))),
      [],
      'only ignored keys have no diffusers place',
    );
    // 893 sgm tensors; the two packed in_proj pairs become 3 tensors each.
    assert.equal(targets.size, 1073 - 180 + 2 * 2 * 2);
  });

  test('place blocks by index arithmetic, not by the full-size table', () => {
    const expect = (sgm: string, component: DiffusersComponent, target: string) => {
      const placement = sgmKeyToDiffusers(sgm, layout);
      assert.equal(placement?.component, component, sgm);
      assert.deepEqual(placement?.keys, [target], sgm);
    };
    const u = 'model.diffusion_model.';
    expect(`${u}input_blocks.2.0.op.weight`, 'unet', 'down_blocks.0.downsamplers.0.conv.weight');
    expect(`${u}input_blocks.3.1.norm.weight`, 'unet', 'down_blocks.1.attentions.0.norm.weight');
    expect(
      `${u}input_blocks.3.0.skip_connection.bias`,
      'unet',
      'down_blocks.1.resnets.0.spatial_res_block.conv_shortcut.bias',
    );
    expect(`${u}output_blocks.1.2.conv.weight`, 'unet', 'up_blocks.0.upsamplers.0.conv.weight');
    expect(
      `${u}output_blocks.2.1.time_stack.0.ff_in.net.2.weight`,
      'unet',
      'up_blocks.1.attentions.0.temporal_transformer_blocks.0.ff_in.net.2.weight',
    );
    expect(
      `${u}output_blocks.3.0.time_stack.emb_layers.1.weight`,
      'unet',
      'up_blocks.1.resnets.1.temporal_res_block.time_emb_proj.weight',
    );
    expect(
      'first_stage_model.decoder.up.3.block.1.conv1.weight',
      'vae',
      'decoder.up_blocks.0.resnets.1.spatial_res_block.conv1.weight',
    );
    expect('first_stage_model.decoder.up.1.upsample.conv.bias', 'vae', 'decoder.up_blocks.2.upsamplers.0.conv.bias');
    expect(
      'first_stage_model.decoder.up.0.block.1.mix_factor',
      'vae',
      'decoder.up_blocks.3.resnets.1.time_mixer.mix_factor',
    );
    expect(
      'conditioner.embedders.3.encoder.encoder.down.2.downsample.conv.weight',
      'vae',
      'encoder.down_blocks.2.downsamplers.0.conv.weight',
    );
    // Things that do not exist in this layout are not mapped.
    assert.equal(sgmKeyToDiffusers(`${u}input_blocks.4.0.in_layers.0.weight`, layout), undefined);
    assert.equal(sgmKeyToDiffusers(`${u}output_blocks.3.2.conv.weight`, layout), undefined);
    assert.equal(sgmKeyToDiffusers('first_stage_model.decoder.up.0.upsample.conv.weight', layout), undefined);
    assert.deepEqual(diffusersKeyToSgm('unet', 'up_blocks.1.upsamplers.0.conv.weight', layout), { kind: 'unknown' });
    assert.deepEqual(diffusersKeyToSgm('unet', 'down_blocks.1.downsamplers.0.conv.weight', layout), {
      kind: 'unknown',
    });
    assert.deepEqual(diffusersKeyToSgm('vae', 'post_quant_conv.weight', layout), { kind: 'unknown' });
    assert.deepEqual(diffusersKeyToSgm('image_encoder', 'vision_model.embeddings.position_ids', layout), {
      kind: 'derived',
    });
  });
});

describe('byte transforms', () => {
  const seq = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 0.5);

  test('split q/k/v into row blocks and concatenate back', () => {
    const t = new HostTensor('float32', [6, 2], seq(12));
    const parts = toTargetParts(t, SPLIT_QKV);
    assert.deepEqual(
      parts.map((p) => [...p.shape]),
      [
        [2, 2],
        [2, 2],
        [2, 2],
      ],
    );
    assert.deepEqual([...parts[1].data], [4.5, 5.5, 6.5, 7.5]);
    const back = fromTargetParts(parts, SPLIT_QKV);
    assert.deepEqual([...back.shape], [6, 2]);
    assert.deepEqual([...back.data], [...t.data]);
  });

  test('transpose moves raw bits in every element size (NaN payloads kept)', () => {
    const t = new HostTensor('float32', [2, 3], seq(6));
    const tt = toTargetParts(t, TRANSPOSE)[0];
    assert.deepEqual([...tt.shape], [3, 2]);
    assert.deepEqual([...tt.data], [0.5, 3.5, 1.5, 4.5, 2.5, 5.5]);
    const half = new HostTensor('float16', [2, 2], Uint16Array.from([0x7c01, 2, 3, 0xfe00]));
    const back = fromTargetParts(toTargetParts(half, TRANSPOSE), TRANSPOSE);
    assert.deepEqual([...back.data], [0x7c01, 2, 3, 0xfe00]);
  });

  test('squeeze 1×1 conv weights to linear and restore the 4-D shape', () => {
    assert.deepEqual(targetShape([512, 512, 1, 1], SQUEEZE), [512, 512]);
    assert.deepEqual(sourceShape([[512, 512]], SQUEEZE), [512, 512, 1, 1]);
    assert.throws(() => targetShape([4, 4, 3, 3], SQUEEZE), RangeError);
    assert.throws(() => targetShape([7, 2], SPLIT_QKV), RangeError);
  });
});
