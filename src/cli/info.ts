/** `svd info`: what the engine can use on this machine. */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { Engine } from '../runtime/engine.ts';
import type { Provider } from '../runtime/protocol.ts';

const PROVIDERS: readonly Provider[] = ['cpu', 'webgpu', 'cuda'];

export async function infoCommand(argv: readonly string[]): Promise<number> {
  let values: { provider?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { provider: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    }));
  } catch (e) {
    console.error(`svd info: ${(e as Error).message}`);
    return 2;
  }
  const provider = (values.provider ?? 'cpu') as Provider;
  if (!PROVIDERS.includes(provider)) {
    console.error(`svd info: --provider ${JSON.stringify(values.provider)}: expected one of ${PROVIDERS.join(', ')}`);
    return 2;
  }
  const info: Record<string, unknown> = {
    node: process.version,
    onnxruntime: ort.env.versions.common,
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    backends: ort.listSupportedBackends().map((b) => `${b.name}${b.bundled ? '' : ' (not installed)'}`),
  };
  try {
    const engine = await Engine.create({ provider, threads: 1 });
    await engine.dispose();
    info[`provider ${provider}`] = 'available';
  } catch (e) {
    info[`provider ${provider}`] = `unavailable: ${(e as Error).message}`;
    if (values.json) console.log(JSON.stringify(info, null, 2));
    else for (const [k, v] of Object.entries(info)) console.log(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    return 1;
  }
  if (values.json) console.log(JSON.stringify(info, null, 2));
  else for (const [k, v] of Object.entries(info)) console.log(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  return 0;
}
