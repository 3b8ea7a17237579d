/**
 * Issue 11: the weights committed for svd-mini — the model and its camera LoRAs, every `.safetensors` under
 * models/svd-mini/ — stay within 40 MB together.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHIPPED_MODEL_DIR } from '../../src/models/shipped.ts';

const BUDGET = 40e6;

function weightFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? weightFiles(join(dir, e.name)) : e.name.endsWith('.safetensors') ? [join(dir, e.name)] : [],
  );
}

test('the committed svd-mini weights are at most 40 MB together', () => {
  const files = weightFiles(SHIPPED_MODEL_DIR);
  assert.ok(
    files.some((f) => f.endsWith('svd-mini.safetensors')),
    'the model ships',
  );
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  assert.ok(bytes <= BUDGET, `${(bytes / 1e6).toFixed(2)} MB in ${files.length} files > 40 MB`);
});
