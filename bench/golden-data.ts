/**
 * Golden fixture data for the benches. Benches may read fixture files by path (test/fixtures/golden/pipeline-tiny is
 * data), but they import no test code: `npm run check-layers` forbids bench/ → test/ imports.
 */
import type { HostTensor } from '../src/tensor/host-tensor.ts';
import { SafetensorsFile } from '../src/weights/index.ts';

/** Every tensor of a safetensors file, by name. */
export async function readSafetensors(path: string): Promise<Map<string, HostTensor>> {
  const file = await SafetensorsFile.open(path);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}
