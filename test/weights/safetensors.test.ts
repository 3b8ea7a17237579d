import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HostTensor } from '../../src/tensor/host-tensor.ts';
import {
  encodeSafetensors,
  SafetensorsError,
  type SafetensorsErrorCode,
  SafetensorsFile,
  writeSafetensors,
} from '../../src/weights/index.ts';

const GOLDEN_LINEAR = new URL('../fixtures/golden/ops/linear.safetensors', import.meta.url).pathname;
/** Per-test limit: every malformed input must fail fast, never hang. */
const QUICK = { timeout: 5000 };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-safetensors-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A safetensors file built by hand: a u64 header length (real or forged), the header bytes, `dataBytes` bytes. */
function rawFile(header: string | object | Uint8Array, dataBytes = 0, forgedLength?: bigint): Uint8Array {
  const json =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, forgedLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + json.byteLength + i] = i & 0xff;
  return out;
}

/** Writes `bytes` as `<name>.safetensors`, expects open() and fromBuffer() to fail with `code`, returns the error. */
async function expectBad(name: string, bytes: Uint8Array, code: SafetensorsErrorCode): Promise<SafetensorsError> {
  const path = join(dir, `${name}.safetensors`);
  await writeFile(path, bytes);
  let caught: unknown;
  try {
    const file = await SafetensorsFile.open(path);
    await file.close();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SafetensorsError, `expected a SafetensorsError for ${name}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.file, path);
  assert.ok(caught.message.startsWith(`${path}: `), caught.message);
  assert.ok(!caught.message.includes('\n'), 'message is one line');
  assert.throws(
    () => SafetensorsFile.fromBuffer(bytes, `${name}.bytes`),
    (err: unknown) => err instanceof SafetensorsError && err.code === code && err.message.startsWith(`${name}.bytes: `),
  );
  return caught;
}

function sampleTensors(): Map<string, HostTensor> {
  return new Map<string, HostTensor>([
    ['f32', HostTensor.float32([2, 3], [1, -2.5, 3.25, 0, Number.POSITIVE_INFINITY, -0])],
    ['f16', new HostTensor('float16', [4], Uint16Array.from([0x3c00, 0xc000, 0x7c00, 0x0001]))],
    ['bf16', new HostTensor('bfloat16', [2, 2], Uint16Array.from([0x3f80, 0xbf80, 0x7f80, 0x0000]))],
    ['i64', HostTensor.int64([3], [-(2n ** 63n), 2n ** 63n - 1n, 42n])],
    ['i32', new HostTensor('int32', [3], Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 7]))],
    ['u8', new HostTensor('uint8', [5], Uint8Array.from([0, 1, 127, 128, 255]))],
    ['bool', new HostTensor('bool', [3], Uint8Array.from([1, 0, 1]))],
    ['scalar', HostTensor.float32([], [3.5])],
    ['empty', HostTensor.zeros('float32', [0, 3])],
    ['empty.i64', HostTensor.zeros('int64', [0])],
    ['10', new HostTensor('uint8', [1], Uint8Array.from([9]))],
    ['after.odd', new HostTensor('int32', [2], Int32Array.from([1, 2]))],
  ]);
}
const SAMPLE_METADATA = { format: 'pt', 'note ✓': 'unicode \u00e9 "quoted"', empty: '' };

function assertSameTensors(actual: Map<string, HostTensor>, expected: Map<string, HostTensor>): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    assert.equal(got.dtype, want.dtype, name);
    assert.deepEqual(got.shape, want.shape, name);
    assert.deepEqual(Array.from(got.data as ArrayLike<unknown>), Array.from(want.data as ArrayLike<unknown>), name);
    assert.equal(got.data.byteOffset, 0, `${name} starts at the buffer start, so it is aligned`);
  }
}

describe('safetensors round trip', () => {
  test('writeSafetensors then open/readAll keeps every dtype, 0-dim and zero-element tensors, order, metadata', async () => {
    const path = join(dir, 'roundtrip.safetensors');
    const tensors = sampleTensors();
    await writeSafetensors(path, tensors, SAMPLE_METADATA);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary file left behind',
    );

    await using file = await SafetensorsFile.open(path);
    assert.deepEqual(file.names(), [...tensors.keys()], 'header order, integer-like name "10" included');
    assert.deepEqual(file.metadata, SAMPLE_METADATA);
    assert.equal(file.dataOffset % 8, 0, 'data section is 8-byte aligned');
    assert.ok(file.has('scalar') && !file.has('missing'));
    assert.deepEqual(file.info('f32'), { dtype: 'float32', shape: [2, 3], byteLength: 24, offset: file.dataOffset });
    assertSameTensors(await file.readAll(), tensors);

    const shared = await file.read('i64', { shared: true });
    assert.ok(shared.data.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(Array.from(shared.data as BigInt64Array), [-(2n ** 63n), 2n ** 63n - 1n, 42n]);
    assert.ok((await file.read('f32')).data.buffer instanceof ArrayBuffer);

    const encoded = encodeSafetensors(tensors, SAMPLE_METADATA);
    assert.deepEqual(encoded, new Uint8Array(await readFile(path)), 'encode and write give the same bytes');
    assertSameTensors(await SafetensorsFile.fromBuffer(encoded).readAll(), tensors);
  });

  test('a Record input, no metadata and no tensors both work', async () => {
    const bytes = encodeSafetensors({ w: HostTensor.float32([2], [1, 2]) });
    const file = SafetensorsFile.fromBuffer(bytes);
    assert.deepEqual(file.names(), ['w']);
    assert.deepEqual(file.metadata, {});
    const empty = SafetensorsFile.fromBuffer(encodeSafetensors({}));
    assert.deepEqual(empty.names(), []);
    assert.equal(empty.dataOffset, 16);
  });

  test('writer rejects bad input before creating any file', async () => {
    const path = join(dir, 'never.safetensors');
    await assert.rejects(
      writeSafetensors(path, { __metadata__: HostTensor.float32([1], [1]) }),
      (err: unknown) => err instanceof SafetensorsError && err.code === 'bad-entry',
    );
    await assert.rejects(
      writeSafetensors(path, {}, { n: 3 as unknown as string }),
      (err: unknown) => err instanceof SafetensorsError && err.code === 'bad-entry',
    );
    await assert.rejects(stat(path), { code: 'ENOENT' });
  });

  test('a failed write leaves neither the target nor a temporary file', async () => {
    const path = join(dir, 'no-such-dir', 'x.safetensors');
    await assert.rejects(
      writeSafetensors(path, { a: HostTensor.float32([1], [1]) }),
      (err: unknown) => err instanceof SafetensorsError && err.code === 'io' && err.file === path,
    );
  });

  test('reader errors: missing file, missing tensor, closed file', async () => {
    const missing = join(dir, 'missing.safetensors');
    await assert.rejects(SafetensorsFile.open(missing), (err: unknown) => {
      return err instanceof SafetensorsError && err.code === 'not-found' && err.message.includes(missing);
    });
    const path = join(dir, 'small.safetensors');
    await writeSafetensors(path, { a: HostTensor.float32([1], [1]) });
    const file = await SafetensorsFile.open(path);
    assert.throws(
      () => file.info('b'),
      (err: unknown) => err instanceof SafetensorsError && err.code === 'not-found' && err.tensor === 'b',
    );
    await file.close();
    await file.close();
    await assert.rejects(file.read('a'), (err: unknown) => err instanceof SafetensorsError && err.code === 'io');
  });
});

describe('safetensors lazy reading', () => {
  test(
    'opening a ~10 GB sparse file and reading one small tensor reads only the header and that tensor',
    QUICK,
    async () => {
      const path = join(dir, 'sparse.safetensors');
      const filler = 10_000_000_000; // a uint8 tensor of 10 GB that is never read
      const smallBegin = filler + 8; // a gap between tensors is allowed
      const header = JSON.stringify({
        __metadata__: { kind: 'sparse' },
        filler: { dtype: 'U8', shape: [filler], data_offsets: [0, filler] },
        small: { dtype: 'F32', shape: [2, 2], data_offsets: [smallBegin, smallBegin + 16] },
      });
      const head = rawFile(header);
      const dataStart = head.byteLength;
      const handle = await open(path, 'w');
      try {
        await handle.write(head, 0, head.byteLength, 0);
        await handle.truncate(dataStart + smallBegin + 16);
        const small = new Float32Array([1.5, -2, 3, 4.25]);
        await handle.write(new Uint8Array(small.buffer), 0, 16, dataStart + smallBegin);
      } finally {
        await handle.close();
      }
      const size = (await stat(path)).size;
      assert.equal(size, dataStart + smallBegin + 16);

      const started = performance.now();
      const file = await SafetensorsFile.open(path);
      try {
        assert.deepEqual(file.names(), ['filler', 'small']);
        assert.deepEqual(file.metadata, { kind: 'sparse' });
        assert.deepEqual(file.info('filler'), {
          dtype: 'uint8',
          shape: [filler],
          byteLength: filler,
          offset: dataStart,
        });
        const t = await file.read('small');
        assert.deepEqual(t.shape, [2, 2]);
        assert.deepEqual(Array.from(t.data as Float32Array), [1.5, -2, 3, 4.25]);
      } finally {
        await file.close();
        await rm(path);
      }
      const ms = performance.now() - started;
      assert.ok(ms < 1000, `open + list + read of one tensor took ${ms.toFixed(0)} ms`);
    },
  );
});

describe('safetensors validation', () => {
  const f32 = (shape: unknown, offsets: unknown) => ({ dtype: 'F32', shape, data_offsets: offsets });

  test('file shorter than 8 bytes', QUICK, async () => {
    await expectBad('short', new Uint8Array([1, 2, 3, 4, 5]), 'truncated');
    await expectBad('zero', new Uint8Array(0), 'truncated');
  });

  test('header length beyond the end of the file', QUICK, async () => {
    await expectBad('beyond', rawFile('{}', 4, 1000n), 'truncated');
  });

  test('absurd header lengths (2^63, 2^64 - 1, just over 100 MB)', QUICK, async () => {
    const err = await expectBad('huge-header', rawFile('{}', 0, 2n ** 63n), 'header-too-large');
    assert.match(err.message, /9223372036854775808/);
    await expectBad('max-header', rawFile('{}', 0, 2n ** 64n - 1n), 'header-too-large');
    await expectBad('over-limit', rawFile('{}', 0, 100_000_001n), 'header-too-large');
  });

  test('header that is not UTF-8 JSON', QUICK, async () => {
    await expectBad('bad-json', rawFile('{"a": '), 'bad-json');
    await expectBad('empty-header', rawFile(''), 'bad-json');
    await expectBad('bad-utf8', rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'bad-json');
    await expectBad('duplicate', rawFile('{"a": {}, "a": {}}'), 'bad-json');
  });

  test('header JSON that is not an object', QUICK, async () => {
    const err = await expectBad('array', rawFile('[]'), 'bad-json');
    assert.match(err.message, /array, not an object/);
    await expectBad('null', rawFile('null'), 'bad-json');
    await expectBad('number', rawFile('12'), 'bad-json');
  });

  test('unknown or unsupported dtypes name the tensor and the dtype', QUICK, async () => {
    for (const dtype of ['F64', 'XYZ', 'I8', 'U16']) {
      const bytes = rawFile({ 'w.bias': { dtype, shape: [2], data_offsets: [0, 16] } }, 16);
      const err = await expectBad(`dtype-${dtype}`, bytes, 'unknown-dtype');
      assert.equal(err.tensor, 'w.bias');
      assert.ok(err.message.includes(`"${dtype}"`) && err.message.includes('"w.bias"'), err.message);
    }
  });

  test('overlapping byte ranges', QUICK, async () => {
    const bytes = rawFile({ a: f32([4], [0, 16]), b: f32([4], [8, 24]) }, 24);
    const err = await expectBad('overlap', bytes, 'overlapping');
    assert.match(err.message, /"a" \[0, 16\] and "b" \[8, 24\] overlap/);
    // A range nested inside an earlier, longer one, after a non-overlapping one.
    const nested = rawFile({ a: f32([8], [0, 32]), b: f32([1], [32, 36]), c: f32([1], [4, 8]) }, 36);
    await expectBad('overlap-nested', nested, 'overlapping');
  });

  test('offsets beyond the data section (truncated file)', QUICK, async () => {
    const err = await expectBad('out-of-range', rawFile({ a: f32([4], [0, 16]) }, 8), 'offset-out-of-range');
    assert.equal(err.tensor, 'a');
    const far = rawFile(
      '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [18446744073709551616, 18446744073709551620]}}',
    );
    await expectBad('offset-2^64', far, 'offset-out-of-range');
  });

  test('byte length differs from numel x element size', QUICK, async () => {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, rawFile({ 'a.weight': f32([3, 4], [0, 44]) }, 48));
    await assert.rejects(SafetensorsFile.open(path), (err: unknown) => {
      assert.ok(err instanceof SafetensorsError);
      assert.equal(err.code, 'size-mismatch');
      assert.equal(err.message, `${path}: tensor "a.weight" needs 48 bytes for float32 [3, 4], data_offsets give 44`);
      return true;
    });
  });

  test('shapes whose element count overflows fail fast', QUICK, async () => {
    const big = 2 ** 52;
    await expectBad('overflow', rawFile({ a: f32([big, big, big], [0, 16]) }, 16), 'size-mismatch');
    const manyDims = new Array(200_000).fill(2);
    await expectBad('many-dims', rawFile({ a: f32(manyDims, [0, 16]) }, 16), 'size-mismatch');
    const maxDims = [...new Array(40).fill(Number.MAX_SAFE_INTEGER), 0];
    await expectBad('nan-numel', rawFile({ a: f32(maxDims, [0, 0]) }), 'bad-entry');
  });

  test('shape entries that are negative, fractional, too big or not numbers', QUICK, async () => {
    await expectBad('negative-dim', rawFile({ a: f32([-1, 4], [0, 16]) }, 16), 'bad-entry');
    await expectBad('fractional-dim', rawFile({ a: f32([1.5], [0, 6]) }, 8), 'bad-entry');
    await expectBad('string-dim', rawFile({ a: f32(['4'], [0, 16]) }, 16), 'bad-entry');
    await expectBad(
      'unsafe-dim',
      rawFile('{"a": {"dtype": "F32", "shape": [1e300], "data_offsets": [0, 4]}}', 4),
      'bad-entry',
    );
    await expectBad('shape-not-array', rawFile({ a: f32(4, [0, 16]) }, 16), 'bad-entry');
  });

  test('data_offsets that are malformed or have begin > end', QUICK, async () => {
    const err = await expectBad('begin-after-end', rawFile({ a: f32([0], [8, 4]) }, 8), 'bad-entry');
    assert.match(err.message, /begin > end/);
    await expectBad('one-offset', rawFile({ a: f32([0], [0]) }), 'bad-entry');
    await expectBad('negative-offset', rawFile({ a: f32([1], [-4, 0]) }, 4), 'bad-entry');
    await expectBad('fractional-offset', rawFile({ a: f32([1], [0.5, 4.5]) }, 8), 'bad-entry');
  });

  test('entries with missing fields, and non-string metadata', QUICK, async () => {
    await expectBad('not-object', rawFile({ a: 3 }), 'bad-entry');
    await expectBad('no-dtype', rawFile({ a: { shape: [1], data_offsets: [0, 4] } }, 4), 'bad-entry');
    await expectBad('no-shape', rawFile({ a: { dtype: 'F32', data_offsets: [0, 4] } }, 4), 'bad-entry');
    await expectBad('no-offsets', rawFile({ a: { dtype: 'F32', shape: [1] } }, 4), 'bad-entry');
    await expectBad('metadata-number', rawFile({ __metadata__: { a: 1 } }), 'bad-entry');
    await expectBad('metadata-array', rawFile({ __metadata__: ['a'] }), 'bad-entry');
  });

  test('zero-element tensors may sit anywhere in range, including inside another tensor', QUICK, async () => {
    const file = SafetensorsFile.fromBuffer(rawFile({ a: f32([4], [0, 16]), e: f32([0, 5], [8, 8]) }, 16));
    assert.deepEqual(file.names(), ['a', 'e']);
    assert.equal((await file.read('e')).size, 0);
  });
});

describe('safetensors golden files', () => {
  test('the linear op golden file (written by PyTorch tooling) parses and is self-consistent', async () => {
    await using file = await SafetensorsFile.open(GOLDEN_LINEAR);
    assert.equal(file.metadata.op, 'linear');
    const shapes = Object.fromEntries(file.names().map((n) => [n, file.info(n).shape]));
    assert.deepEqual(shapes, {
      'input.x': [2, 5, 48],
      'param.weight': [40, 48],
      'param.bias': [40],
      output: [2, 5, 40],
      grad_output: [2, 5, 40],
      'grad.input.x': [2, 5, 48],
      'grad.param.weight': [40, 48],
      'grad.param.bias': [40],
    });
    for (const name of file.names()) assert.equal(file.info(name).dtype, 'float32');

    // output = x @ weight^T + bias, checked on the raw data.
    const x = (await file.read('input.x')).data as Float32Array;
    const w = (await file.read('param.weight')).data as Float32Array;
    const b = (await file.read('param.bias')).data as Float32Array;
    const y = (await file.read('output')).data as Float32Array;
    let worst = 0;
    for (let row = 0; row < 10; row++) {
      for (let o = 0; o < 40; o++) {
        let sum = b[o];
        for (let i = 0; i < 48; i++) sum += x[row * 48 + i] * w[o * 48 + i];
        worst = Math.max(worst, Math.abs(sum - y[row * 40 + o]));
      }
    }
    assert.ok(worst < 1e-4, `max |x W^T + b - output| = ${worst}`);
  });
});
