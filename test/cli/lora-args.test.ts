/** `--lora FILE[:SCALE]` (repeatable) → the request's `lora` field → validated `loras`, with field-level issues. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeIssueForCli, parseGenerateArgs } from '../../src/cli/generate-args.ts';
import { GenerateRequestError, parseGenerateRequest } from '../../src/pipeline/request.ts';

const BASE = { image: 'in.png', checkpoint: 'ckpt.safetensors' };

describe('--lora', () => {
  test('repeatable flag → list → specs with default scale 1', () => {
    const args = parseGenerateArgs(['--image', 'in.png', '--lora', 'a.safetensors:0.5', '--lora', 'b.safetensors'])!;
    assert.deepEqual(args.input.lora, ['a.safetensors:0.5', 'b.safetensors']);
    const req = parseGenerateRequest({ ...args.input, checkpoint: 'c.safetensors' });
    assert.deepEqual(req.loras, [
      { path: 'a.safetensors', scale: 0.5 },
      { path: 'b.safetensors', scale: 1 },
    ]);
    assert.deepEqual(parseGenerateRequest(BASE).loras, []);
  });

  test('JSON front ends: a string, an object, or a list of them', () => {
    const req = parseGenerateRequest({
      ...BASE,
      lora: ['x.safetensors:-1', { path: 'y.safetensors', scale: '0.25' }, { path: 'z.safetensors' }],
    });
    assert.deepEqual(req.loras, [
      { path: 'x.safetensors', scale: -1 },
      { path: 'y.safetensors', scale: 0.25 },
      { path: 'z.safetensors', scale: 1 },
    ]);
    assert.deepEqual(parseGenerateRequest({ ...BASE, lora: 'w.safetensors:2' }).loras, [
      { path: 'w.safetensors', scale: 2 },
    ]);
  });

  test('field-level issues: every bad entry, in CLI terms', () => {
    try {
      parseGenerateRequest({ ...BASE, lora: ['a.safetensors:nan', '', { path: 'b', scale: 'x' }, 3] });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof GenerateRequestError);
      assert.deepEqual(
        e.issues.map((i) => i.field),
        ['lora', 'lora', 'lora', 'lora'],
      );
      assert.equal(
        describeIssueForCli(e.issues[0]),
        '--lora "a.safetensors:nan": expected FILE[:SCALE] (a LoRA .safetensors file; SCALE a number, default 1)',
      );
    }
  });
});
