/** Loads golden vectors copied from ../shared/golden into test/fixtures/golden. */
import { fileURLToPath } from 'node:url';
import type { HostTensor } from '../../src/tensor/host-tensor.ts';
import { SafetensorsFile } from '../../src/weights/index.ts';

export const GOLDEN_DIR = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

export async function loadGolden(relPath: string): Promise<Map<string, HostTensor>> {
  const file = await SafetensorsFile.open(`${GOLDEN_DIR}${relPath}`);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}
