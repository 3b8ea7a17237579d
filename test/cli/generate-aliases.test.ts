/**
 * `svd generate` accepts the reference script's and diffusers' option names as aliases of ours, with the same values;
 * two spellings of one option, or half of --width/--height, are usage errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from '../../src/cli/errors.ts';
import { FLAG_ALIASES, GENERATE_USAGE, parseGenerateArgs } from '../../src/cli/generate-args.ts';

test('aliases set the same request fields as our flags', () => {
  const a = parseGenerateArgs([
    '--image',
    'x.png',
    '--num-frames',
    '14',
    '--num-inference-steps',
    '20',
    '--version',
    'svd',
    '--motion-bucket-id',
    '100',
    '--noise-aug-strength',
    '0.05',
    '--decoding-t',
    '7',
    '--width',
    '512',
    '--height',
    '288',
  ])!;
  const b = parseGenerateArgs([
    '--image',
    'x.png',
    '--frames',
    '14',
    '--steps',
    '20',
    '--preset',
    'svd',
    '--motion-bucket',
    '100',
    '--cond-aug',
    '0.05',
    '--decode-chunk',
    '7',
    '--size',
    '512x288',
  ])!;
  assert.deepEqual(a.input, b.input);
  assert.equal(parseGenerateArgs(['--image', 'x.png', '--num-steps', '9'])!.input.steps, '9');
  assert.equal(parseGenerateArgs(['--image', 'x.png', '--decode-chunk-size', '3'])!.input.decodeChunk, '3');
  // negative values reach the request's range check as values
  assert.equal(parseGenerateArgs(['--image', 'x.png', '--num-frames', '-5'])!.input.frames, '-5');
  for (const alias of Object.keys(FLAG_ALIASES)) assert.ok(GENERATE_USAGE.includes(`--${alias}`), alias);
});

test('two spellings of one option, or --width without --height, are usage errors', () => {
  const usage = (argv: string[], re: RegExp) =>
    assert.throws(
      () => parseGenerateArgs(argv),
      (e) => e instanceof CliError && e.exitCode === 2 && re.test(e.message),
    );
  usage(['--image', 'x.png', '--frames', '3', '--num-frames', '4'], /--num-frames and --frames are the same option/);
  usage(['--image', 'x.png', '--width', '64'], /--width and --height go together/);
  usage(['--image', 'x.png', '--width', '64', '--height', '64', '--size', '64x64'], /same option/);
});
