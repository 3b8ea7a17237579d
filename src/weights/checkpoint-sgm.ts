/** The sgm single-file layout: one `.safetensors` whose keys already are sgm keys (the released `svd*.safetensors`). */
import type { HostTensor } from '../tensor/host-tensor.ts';
import { CheckpointFormatError } from './checkpoint-errors.ts';
import { type CheckpointEntry, type CheckpointSource, widenToFloat32 } from './checkpoint-source.ts';
import { SafetensorsError } from './safetensors-errors.ts';
import { SafetensorsFile } from './safetensors-reader.ts';

export class SgmFileSource implements CheckpointSource {
  readonly layout = 'sgm';
  readonly metadata: Readonly<Record<string, string>>;

  private constructor(
    readonly path: string,
    private readonly file: SafetensorsFile,
  ) {
    this.metadata = file.metadata;
  }

  static async open(path: string): Promise<SgmFileSource> {
    return new SgmFileSource(path, await openSafetensors(path));
  }

  entries(): Map<string, CheckpointEntry> {
    const out = new Map<string, CheckpointEntry>();
    for (const name of this.file.names()) {
      const { dtype, shape } = this.file.info(name);
      out.set(name, { dtype, shape });
    }
    return out;
  }

  async read(key: string): Promise<HostTensor> {
    return widenToFloat32(await this.readStored(key));
  }

  async readStored(key: string): Promise<HostTensor> {
    if (!this.file.has(key)) throw unknownKey(this.path, key);
    return this.file.read(key);
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** The error for a key the checkpoint does not have. */
export function unknownKey(path: string, key: string): CheckpointFormatError {
  return new CheckpointFormatError(path, 'bad-layout', `no tensor ${JSON.stringify(key)} in this checkpoint`);
}

/**
 * `SafetensorsFile.open` with the checkpoint error codes: 'not-found', 'io' (unreadable), 'not-safetensors'
 * (any header validation failure, with the reader's reason).
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  try {
    return await SafetensorsFile.open(path);
  } catch (err) {
    if (!(err instanceof SafetensorsError)) throw err;
    const reason = err.message.startsWith(`${path}: `) ? err.message.slice(path.length + 2) : err.message;
    if (err.code === 'not-found') throw new CheckpointFormatError(path, 'not-found', 'no such file', { cause: err });
    if (err.code === 'io') throw new CheckpointFormatError(path, 'io', reason, { cause: err });
    throw new CheckpointFormatError(path, 'not-safetensors', `not a safetensors file (${reason})`, { cause: err });
  }
}
