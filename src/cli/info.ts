/**
 * `svd info`: what the engine can use on this machine. Every provider onnxruntime-node lists (and each svd-ts runs
 * on) is tested for real, a one-node session created and run on it in a child process (src/runtime/
 * provider-probe.ts), and gets one line: `available`, or why not, without ORT's internal paths; what a failed test
 * printed (ORT's full message, the native libraries' warnings) only with --verbose. Exit 1 when the provider asked
 * for (`--provider`, default cpu) is not available.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { listedProviders, probeProvider } from '../runtime/provider-probe.ts';
import { PROVIDERS } from '../runtime/providers.ts';

export const INFO_USAGE = `usage: svd info [--provider cpu|webgpu|cuda] [--json] [--verbose]

  Node, onnxruntime, CPU, memory, and every provider: each tested with a one-node session, one line each (available,
  or why not). Exit 1 when --provider (default cpu) is not available. --verbose: what a failed test printed.`;

export async function infoCommand(argv: readonly string[]): Promise<number> {
  let values: { provider?: string; json?: boolean; verbose?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        provider: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`svd info: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(INFO_USAGE);
    return 0;
  }
  const provider = values.provider ?? 'cpu';
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
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
  const statuses = await Promise.all(listedProviders().map((p) => probeProvider(p)));
  for (const s of statuses) info[`provider ${s.provider}`] = s.detail;
  if (values.json) console.log(JSON.stringify(info, null, 2));
  else for (const [k, v] of Object.entries(info)) console.log(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  if (values.verbose) {
    for (const s of statuses)
      if (!s.available && s.diagnostics) console.error(`provider ${s.provider} (--verbose):\n${s.diagnostics}`);
  }
  return statuses.find((s) => s.provider === provider)?.available ? 0 : 1;
}
