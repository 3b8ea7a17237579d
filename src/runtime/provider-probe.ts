/**
 * Whether an execution provider works on this machine, tested for real: a one-node ONNX Runtime session created and
 * run on it in a child process (./provider-probe-child.ts), so that what native libraries print while they look for
 * a device (Dawn's Vulkan warnings, with its build paths) stays out of the user's terminal and a provider that hangs
 * or crashes cannot take the caller down. A provider this onnxruntime-node does not ship is reported without a test.
 * The reason of a failure is one line, without ORT's source locations (./ort-message.ts); the raw output is kept for
 * `--verbose`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { ortMessage } from './ort-message.ts';
import type { Provider } from './protocol.ts';
import { checkProviderInstalled, PROVIDERS } from './providers.ts';

const ENTRY = fileURLToPath(new URL('./provider-probe-entry.mjs', import.meta.url));
/** The marker of the child's result line (./provider-probe-child.ts prints it). */
const MARKER = 'PROBE ';

export interface ProviderStatus {
  readonly provider: string;
  /** A test session ran and computed the right result. */
  readonly available: boolean;
  /** `available`, or why not, one line. */
  readonly detail: string;
  /** What the probe printed besides its result (ORT's full message, native warnings), for `--verbose`. */
  readonly diagnostics: string;
}

/** Every backend this onnxruntime-node lists, and the providers svd-ts uses. */
export function listedProviders(): string[] {
  return [...new Set([...PROVIDERS, ...ort.listSupportedBackends().map((b) => b.name)])];
}

/** Tests one provider (a child process per call; `timeoutMs` bounds it). */
export async function probeProvider(provider: string, timeoutMs = 60_000): Promise<ProviderStatus> {
  const unavailable = (detail: string, diagnostics = ''): ProviderStatus => ({
    provider,
    available: false,
    detail,
    diagnostics,
  });
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    const bundled = ort.listSupportedBackends().find((b) => b.name === provider)?.bundled;
    return unavailable(`${bundled ? 'not used by svd-ts' : 'not installed'} (svd-ts runs on ${PROVIDERS.join(', ')})`);
  }
  try {
    checkProviderInstalled(provider as Provider);
  } catch (e) {
    return unavailable((e as Error).message.replace(/^execution provider "[^"]+" is /, ''));
  }
  const { stdout, stderr, code, timedOut } = await runChild(provider, timeoutMs);
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  const diagnostics = [stderr.trim(), stdout.trim()].filter((s) => s.length > 0).join('\n');
  if (timedOut) return unavailable(`the test session did not finish within ${timeoutMs / 1000} s`, diagnostics);
  if (!line) {
    return unavailable(`the test process ended without a result (exit ${code}): ${ortMessage(stderr)}`, diagnostics);
  }
  const result = JSON.parse(line.slice(MARKER.length)) as { ok: boolean; error?: string };
  if (result.ok) return { provider, available: true, detail: 'available', diagnostics: stderr.trim() };
  return unavailable(`unavailable: ${ortMessage(result.error ?? '')}`, [result.error, stderr.trim()].join('\n').trim());
}

function runChild(
  provider: string,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; code: number | null; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, provider], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, timedOut });
    });
  });
}
