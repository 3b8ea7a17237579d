/**
 * The child process of a provider probe (./provider-probe.ts): creates an ONNX Runtime session of a one-node model
 * (`y = x + x`) on the provider named in argv, runs it, checks the result and prints one line `PROBE <json>`
 * (`{ ok, ms }` or `{ ok: false, error }`) on stdout. Native libraries may write to stderr (Dawn's Vulkan warnings);
 * the parent keeps that apart.
 */
import ort from 'onnxruntime-node';
import { probeModel } from './probe-model.ts';

/** The marker of the result line (./provider-probe.ts looks for the same; importing this file would run a probe). */
const PROBE_MARKER = 'PROBE ';

async function probe(provider: string): Promise<{ ok: boolean; ms?: number; error?: string }> {
  const t0 = performance.now();
  const model = probeModel();
  try {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: [provider],
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    const x = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]);
    const { y } = await session.run({ x });
    await session.release();
    const got = [...(y.data as Float32Array)].join();
    if (got !== '2,4,6,8') return { ok: false, error: `the test session computed ${got} instead of 2,4,6,8` };
    return { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

const result = await probe(process.argv[2] ?? 'cpu');
process.stdout.write(`${PROBE_MARKER}${JSON.stringify(result)}\n`);
