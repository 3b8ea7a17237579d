/** The README example reader (./readme-blocks.ts): splitting, verdicts, the paths a command reads, its flags. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify, commandLines, flagsOf, shellBlocks, svdPaths } from './readme-blocks.ts';

const there = new Set(['test/fixtures/golden/pipeline-tiny/input.png', 'examples/train/tiny-i2v.json']);
const exists = (p: string) => there.has(p);
const verdicts = (body: string) => classify(body, exists).map((c) => `${c.verdict.kind}: ${c.text}`);

test('blocks and command lines: continuations joined, comments dropped (not inside quotes)', () => {
  const readme =
    'text\n```sh\nnpx svd info   # providers\n```\n\n```ts\nx\n```\n```sh\na \\\n  b\n# only a comment\n```\n';
  const blocks = shellBlocks(readme);
  assert.deepEqual(
    blocks.map((b) => b.line),
    [3, 10],
  );
  assert.deepEqual(commandLines(blocks[0].body), [{ text: 'npx svd info', comment: 'providers' }]);
  assert.deepEqual(commandLines(blocks[1].body), [{ text: 'a b', comment: '' }]);
  assert.deepEqual(commandLines("redis-server --save '' --x '#no' # yes"), [
    { text: "redis-server --save '' --x '#no'", comment: 'yes' },
  ]);
});

test('verdicts: run what a fresh clone can run; parse user files, training, synopses; skip installs', () => {
  assert.deepEqual(
    verdicts(
      [
        'G=test/fixtures/golden/pipeline-tiny',
        'npx svd generate --image $G/input.png --out a.mp4',
        'npx svd eval psnr a.mp4 a.mp4 --json',
        'npx svd generate --image photo.png --checkpoint svd_xt.safetensors',
        'npx svd train --config examples/train/tiny-i2v.json --run runs/x',
        'npx svd generate --checkpoint runs/x/model.safetensors --image $G/input.png',
        'npx svd convert IN OUT [--to diffusers|sgm]',
        'npm ci',
      ].join('\n'),
    ),
    [
      'run: G=test/fixtures/golden/pipeline-tiny',
      'run: npx svd generate --image $G/input.png --out a.mp4',
      'run: npx svd eval psnr a.mp4 a.mp4 --json',
      'parse: npx svd generate --image photo.png --checkpoint svd_xt.safetensors',
      'parse: npx svd train --config examples/train/tiny-i2v.json --run runs/x',
      'parse: npx svd generate --checkpoint runs/x/model.safetensors --image $G/input.png',
      'parse: npx svd convert IN OUT [--to diffusers|sgm]',
      'skip: npm ci',
    ],
  );
  const [exit] = classify('npx svd info --provider webgpu   # exit 1 when unavailable', exists);
  assert.deepEqual(exit.verdict, { kind: 'run', expectExit: [0, 1] });
});

test('a command that reads a repository path that is not there fails the README, naming it', () => {
  assert.throws(
    () => classify('npx svd generate --image pipeline-tiny/input.png --out a.mp4', exists),
    /reads pipeline-tiny\/input\.png: not in a fresh clone/,
  );
});

test('paths and flags of a command', () => {
  assert.deepEqual(svdPaths(['lora', 'merge', 'base.safetensors', 'l.safetensors:0.8', 'out.safetensors']), {
    inputs: ['base.safetensors', 'l.safetensors'],
    outputs: ['out.safetensors'],
  });
  assert.deepEqual(svdPaths(['curate', 'stats', '--db', 'c.db', '--png', 'hist/']), {
    inputs: ['c.db'],
    outputs: ['hist/'],
  });
  assert.deepEqual(flagsOf(['serve', '[--config', 'JSON', '|', '--preset', 'NAME]', '--port=8']), [
    '--config',
    '--preset',
    '--port',
  ]);
});
