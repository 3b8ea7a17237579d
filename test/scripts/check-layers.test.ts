import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers, extractImports } from '../../scripts/check-layers.mjs';

const SCRIPT = fileURLToPath(new URL('../../scripts/check-layers.mjs', import.meta.url));

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Writes a synthetic repository: { 'src/graph/g.ts': '…' } under a fresh temporary folder. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const BAD_TREE = {
  'src/tensor/shape.ts': 'export type Shape = number[];\n',
  // allowed: graph → tensor, same-layer, Node built-ins, npm packages
  'src/graph/ok.ts': [
    "import { readFileSync } from 'node:fs';",
    "import ort from 'onnxruntime-node';",
    "import type { Shape } from '../tensor/shape.ts';",
    "import { helper } from './helper.ts';",
    '',
  ].join('\n'),
  'src/graph/helper.ts': 'export const helper = 1;\n',
  // forbidden: a multi-line import of runtime from graph (reported at the `import` line)
  'src/graph/bad.ts': [
    '// import { nope } from "../models/x.ts" is a comment, not an import',
    'const text = "import { nope } from \'../models/x.ts\'";',
    'const re = /[\'"]import/;',
    'import {',
    '  Engine,',
    '  type EngineOptions,',
    "} from '../runtime/engine.ts';",
    '',
  ].join('\n'),
  'src/runtime/engine.ts': [
    'export class Engine {}',
    'export type EngineOptions = {};',
    "export const WORKER = new URL('./worker.mjs', import.meta.url);",
    '',
  ].join('\n'),
  // forbidden: diffusion knows no model, not even through `import type`, `import()` or a re-export
  'src/diffusion/denoiser.ts': [
    "import type { Model } from '../models/model.ts';",
    'export async function load() {',
    "  return import('../models/model.ts');",
    '}',
    "export type { Model as M } from '../models/model.ts';",
    '',
  ].join('\n'),
  'src/models/model.ts': "export * from '../diffusion/denoiser.ts';\nexport type Model = {};\n",
  // the front ends: cli may import server, server must not import cli
  'src/cli/main.ts': "import { serve } from '../server/serve.ts';\nexport const x = serve;\n",
  'src/server/serve.ts': "import '../cli/main.ts';\nexport const serve = 1;\n",
  'src/gizmo/thing.ts': "import { Engine } from '../runtime/engine.ts';\n",
  // bench: src is fine, fixture data by path is fine, test code is not
  'bench/b.ts': [
    "import { Engine } from '../src/runtime/engine.ts';",
    "import { loadGolden } from '../test/helpers/golden.ts';",
    "const data = new URL('../test/fixtures/golden/pipeline-tiny/', import.meta.url);",
    "const helper = new URL('../test/helpers/golden.ts', import.meta.url);",
    '',
  ].join('\n'),
};

test('check-layers: reports each forbidden import, and only those', () => {
  const { violations, files } = checkLayers(tree(BAD_TREE));
  assert.equal(files, 11);
  assert.deepEqual(violations.map((v) => v.message).sort(), [
    'bench/b.ts:2: bench must not import test (../test/helpers/golden.ts)',
    'bench/b.ts:4: bench must not import test (../test/helpers/golden.ts)',
    'src/diffusion/denoiser.ts:1: diffusion must not import models (../models/model.ts)',
    'src/diffusion/denoiser.ts:3: diffusion must not import models (../models/model.ts)',
    'src/diffusion/denoiser.ts:5: diffusion must not import models (../models/model.ts)',
    'src/gizmo/: unknown layer "gizmo", add it to the table in scripts/check-layers.mjs',
    'src/graph/bad.ts:4: graph must not import runtime (../runtime/engine.ts)',
    'src/server/serve.ts:1: server must not import cli (../cli/main.ts)',
  ]);
  const multiLine = violations.find((v) => v.file === 'src/graph/bad.ts');
  assert.deepEqual(
    { from: multiLine?.from, to: multiLine?.to, line: multiLine?.line },
    { from: 'graph', to: 'runtime', line: 4 },
  );
});

test('check-layers: a tree that follows the table passes, from the command line too', () => {
  const root = tree({
    'src/tensor/shape.ts': 'export type Shape = number[];\n',
    'src/graph/ok.ts': "import type { Shape } from '../tensor/shape.ts';\nexport type S = Shape;\n",
    'bench/b.ts':
      "import type { S } from '../src/graph/ok.ts';\nconst f = new URL('../test/fixtures/x.json', import.meta.url);\n",
  });
  assert.deepEqual(checkLayers(root).violations, []);
  const ok = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /check-layers: ok \(3 files, 2 relative imports\)/);

  const bad = spawnSync(process.execPath, [SCRIPT, tree(BAD_TREE)], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  const lines = bad.stderr.trim().split('\n');
  assert.equal(lines.length, 9);
  assert.match(lines[8], /^check-layers: 8 violation\(s\)/);
});

test('extractImports: static, type-only, side-effect, re-export, dynamic and new URL references', () => {
  const src = [
    '#!/usr/bin/env node',
    "import a, { b } from './a.ts';",
    'import type {',
    '  C,',
    "} from './c.ts';",
    "import './side.ts';",
    "export * as ns from './ns.ts';",
    "export { d } from './d.ts';",
    'export const e = 1;',
    "const f = await import('./f.ts');",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, on purpose
    'const g = `import x from "./not-me.ts" ${`nested ${"}"}`} done`;',
    "const w = new URL('./w.mjs', import.meta.url);",
    "/* import z from './commented.ts'; */",
    "const q = 4 / 2; const r = /from 'x'/g;",
    "import.meta.url; obj.import('./no.ts');",
    "type T = import('./types.ts').T;",
    '',
  ].join('\n');
  assert.deepEqual(
    extractImports(src).map((r) => `${r.line} ${r.kind} ${r.specifier}`),
    [
      '2 import ./a.ts',
      '3 import ./c.ts',
      '6 import ./side.ts',
      '7 export ./ns.ts',
      '8 export ./d.ts',
      '10 dynamic ./f.ts',
      '12 url ./w.mjs',
      '16 dynamic ./types.ts',
    ],
  );
});
