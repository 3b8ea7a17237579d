/** Execution providers (DESIGN.md decision 9): which are usable, with a clear error for those that are not. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { ProviderUnavailableError } from './errors.ts';
import type { Provider } from './protocol.ts';

export const PROVIDERS: readonly Provider[] = ['cpu', 'webgpu', 'cuda'];

/** Folder of the ORT native binary for this platform. */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Throws ProviderUnavailableError when the provider is unknown or not installed with this onnxruntime-node. */
export function checkProviderInstalled(provider: Provider): void {
  if (!PROVIDERS.includes(provider)) {
    throw new ProviderUnavailableError(
      `unknown execution provider "${provider}"; expected one of ${PROVIDERS.join(', ')}`,
    );
  }
  const backends = ort.listSupportedBackends();
  const entry = backends.find((b) => b.name === provider);
  if (!entry) {
    throw new ProviderUnavailableError(
      `execution provider "${provider}" is not supported by onnxruntime-node on ${process.platform}/${process.arch}`,
    );
  }
  if (provider === 'cuda' && !existsSync(join(ortBinaryDir(), 'libonnxruntime_providers_cuda.so'))) {
    throw new ProviderUnavailableError(
      'execution provider "cuda" is not installed: fetch the CUDA 12 binaries of onnxruntime-node with `npm run install-cuda` on a machine with network access and CUDA 12',
    );
  }
}
