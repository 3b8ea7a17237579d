/**
 * The engine the numeric tests use: the cpu provider, or the one named by SVD_TEST_PROVIDER (scripts/gpu-probe.sh
 * runs the op goldens with SVD_TEST_PROVIDER=webgpu on a GPU machine).
 */
import { Engine } from '../../src/runtime/engine.ts';
import type { Provider } from '../../src/runtime/protocol.ts';

export function testProvider(): Provider {
  return (process.env.SVD_TEST_PROVIDER as Provider | undefined) ?? 'cpu';
}

export function createTestEngine(): Promise<Engine> {
  return Engine.create({ provider: testProvider(), threads: 2 });
}
