/**
 * A checkpoint's identity for the sidecar: sha256 of the whole file when it is small (≤ 256 MiB); for larger files
 * (9.5 GB released checkpoints: a full hash costs ~30 s) sha256 of the size, the first and the last 64 MiB, labelled
 * as such. A diffusers folder hashes its weight files in a fixed order.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const FULL_LIMIT = 256 * 2 ** 20;
const PART = 64 * 2 ** 20;

async function hashFile(path: string, h: ReturnType<typeof createHash>): Promise<'full' | 'size+head+tail'> {
  const { size } = await stat(path);
  const fh = await open(path, 'r');
  try {
    const read = async (pos: number, len: number) => {
      const buf = Buffer.alloc(len);
      let off = 0;
      while (off < len) {
        const { bytesRead } = await fh.read(buf, off, len - off, pos + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      h.update(buf.subarray(0, off));
    };
    if (size <= FULL_LIMIT) {
      await read(0, size);
      return 'full';
    }
    h.update(String(size));
    await read(0, PART);
    await read(size - PART, PART);
    return 'size+head+tail';
  } finally {
    await fh.close();
  }
}

export async function checkpointHash(path: string): Promise<{ sha256: string; scope: string }> {
  const h = createHash('sha256');
  const st = await stat(path);
  if (st.isFile()) return { scope: await hashFile(path, h), sha256: h.digest('hex') };
  const files: string[] = [];
  for (const sub of ['', 'unet', 'vae', 'image_encoder']) {
    const dir = join(path, sub);
    try {
      for (const f of (await readdir(dir)).sort()) if (f.endsWith('.safetensors')) files.push(join(dir, f));
    } catch {
      // missing component folders are reported by the loader
    }
  }
  let scope = 'full';
  for (const f of files) {
    h.update(f.slice(path.length));
    if ((await hashFile(f, h)) !== 'full') scope = 'size+head+tail';
  }
  return { scope: `${scope} (${files.length} files)`, sha256: h.digest('hex') };
}
