/** The decoder's mid block and each up level are traced in scopes named by their checkpoint prefix (profile names). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../../src/graph/builder.ts';
import { toOnnxModel } from '../../../src/graph/lower.ts';
import type { AutoencoderConfig } from '../../../src/models/vae/config.ts';
import { buildDecoder } from '../../../src/models/vae/decoder.ts';
import { Params } from '../../../src/nn/params.ts';

const CFG: AutoencoderConfig = {
  ch: 32,
  chMult: [1, 2],
  numResBlocks: 1,
  attnResolutions: [],
  inChannels: 3,
  outCh: 3,
  zChannels: 4,
  resolution: 16,
  doubleZ: false,
  attnType: 'vanilla',
};

test('decoder nodes carry mid / up.N scopes, and the lowered ONNX nodes are named after them', () => {
  const b = new GraphBuilder('dec');
  const p = new Params(b, 'first_stage_model.decoder');
  b.output('y', buildDecoder(p, b.input('z', [1, 4, 2, 2]), CFG));
  const g = b.build();
  const scopes = new Set(g.nodes.map((n) => n.scope ?? ''));
  assert.ok(scopes.has('first_stage_model.decoder.mid'), [...scopes].join(', '));
  assert.ok(scopes.has('first_stage_model.decoder.up.0'));
  assert.ok(scopes.has('first_stage_model.decoder.up.1'));
  // conv_in, norm_out and conv_out stay outside the levels.
  assert.ok(scopes.has(''));
  const names = toOnnxModel(g).nodes.map((n) => n.name ?? '');
  assert.ok(
    names.some((n) => n.startsWith('first_stage_model.decoder.up.1/Conv_')),
    names.slice(0, 5).join(', '),
  );
  const named = names.filter((n) => n !== '');
  assert.equal(new Set(named).size, named.length, 'node names are unique');
});
