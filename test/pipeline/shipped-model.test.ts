/** The shipped model (src/models/shipped.ts): used without --checkpoint; camera LoRAs by name. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findShippedModel } from '../../src/models/shipped.ts';
import { GenerateRequestError, parseGenerateRequest } from '../../src/pipeline/request.ts';

const dir = mkdtempSync(join(tmpdir(), 'svd-shipped-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'loras'));
writeFileSync(join(dir, 'svd-mini.safetensors'), '');
writeFileSync(join(dir, 'loras', 'zoom-in.safetensors'), '');
const shipped = findShippedModel(dir);

function fieldsOf(input: Record<string, unknown>): string[] {
  try {
    parseGenerateRequest({ image: 'in.png', ...input }, { shipped });
  } catch (e) {
    assert.ok(e instanceof GenerateRequestError, String(e));
    return e.issues.map((i) => `${i.field}: ${i.expected}`);
  }
  return [];
}

test('findShippedModel: the weights and the LoRAs present; nothing without the weights file', () => {
  assert.ok(shipped);
  assert.equal(shipped.preset, 'svd-mini');
  assert.equal(shipped.checkpoint, join(dir, 'svd-mini.safetensors'));
  assert.deepEqual([...shipped.loras.keys()], ['zoom-in']);
  assert.equal(findShippedModel(join(dir, 'loras')), undefined);
});

test('no --checkpoint: the shipped model; --preset svd-mini alone is the same', () => {
  for (const extra of [{}, { preset: 'svd-mini' }]) {
    const r = parseGenerateRequest({ image: 'in.png', ...extra }, { shipped });
    assert.deepEqual(r.model, { checkpoint: shipped?.checkpoint, preset: 'svd-mini', config: undefined });
  }
});

test('another preset or a config without --checkpoint is an error naming the checkpoint', () => {
  assert.match(fieldsOf({ preset: 'svd-xt' }).join(), /^checkpoint: required with --preset svd-xt/);
  assert.match(fieldsOf({ config: 'model.json' }).join(), /^checkpoint: required with --config/);
});

test('a camera LoRA by name: the shipped file, with its scale; only with the shipped model', () => {
  const r = parseGenerateRequest({ image: 'in.png', lora: 'zoom-in:0.8' }, { shipped });
  assert.deepEqual(r.loras, [{ path: join(dir, 'loras', 'zoom-in.safetensors'), scale: 0.8 }]);
  assert.match(fieldsOf({ lora: 'pan-left' }).join(), /^lora: .*"pan-left" is missing/);
  // a LoRA that is trained but does not ship says why
  assert.match(
    fieldsOf({ lora: 'zoom-out' }).join(),
    /^lora: .*"zoom-out" does not ship: svd-mini does not learn to zoom/,
  );
  assert.match(
    fieldsOf({ lora: 'zoom-in', checkpoint: 'svd_xt.safetensors' }).join(),
    /^lora: .*ships for svd-mini, the default model only/,
  );
  // a path is a path, not a name
  const p = parseGenerateRequest({ image: 'in.png', lora: 'loras/zoom-in.safetensors:0.5' }, { shipped });
  assert.deepEqual(p.loras, [{ path: 'loras/zoom-in.safetensors', scale: 0.5 }]);
});

test('without shipped weights, no --checkpoint gives the hint', () => {
  assert.throws(
    () => parseGenerateRequest({ image: 'in.png' }, { shipped: null, noModelHint: 'pass --checkpoint X' }),
    (e: unknown) => e instanceof GenerateRequestError && e.issues[0].expected === 'pass --checkpoint X',
  );
});
