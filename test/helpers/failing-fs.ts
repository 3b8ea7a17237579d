/**
 * A filesystem that fails under chosen paths as a full disk or an unwritable folder does, for tests of what a
 * program leaves behind when it cannot write. The writing functions of `node:fs/promises` are wrapped and the ES
 * module bindings re-synced (`syncBuiltinESMExports`), so code that imports them by name sees the failure; reads are
 * untouched. Only async `node:fs/promises` is covered (the training run's writers use nothing else).
 *
 * - `ENOSPC` (disk full): files are created and the first write of each lands half of its bytes before the error, so
 *   a writer that does not clean up leaves a half-written file, as a real full disk does; renames and removals work.
 * - `EACCES` (folder not writable): nothing under the paths can be created, written, renamed or removed.
 */
import type { FileHandle } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
type Fsp = typeof import('node:fs/promises');
const fsp = require('node:fs/promises') as Fsp;

export type FailCode = 'ENOSPC' | 'EACCES';

export interface FailingFs {
  /** The paths whose writes failed, in order. */
  readonly failures: string[];
  /** Puts the real functions back. */
  restore(): void;
}

const ERRNO: Record<FailCode, number> = { ENOSPC: -28, EACCES: -13 };
const TEXT: Record<FailCode, string> = { ENOSPC: 'no space left on device', EACCES: 'permission denied' };

/** An error shaped as Node's own (code, errno, syscall, path). */
function fsError(code: FailCode, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${TEXT[code]}, ${syscall} '${path}'`), {
    code,
    errno: ERRNO[code],
    syscall,
    path,
  });
}

function pathOf(p: unknown): string | undefined {
  if (typeof p === 'string') return resolve(p);
  if (p instanceof URL) return fileURLToPath(p);
  if (Buffer.isBuffer(p)) return resolve(p.toString());
  return undefined; // a FileHandle: judged when it was opened
}

function bytesOf(data: unknown): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(0);
}

function writesTo(flags: unknown): boolean {
  if (flags === undefined) return false;
  if (typeof flags === 'number') return (flags & 3) !== 0; // O_WRONLY | O_RDWR
  return /[wa+]/.test(String(flags));
}

/** From now on, writes to paths for which `match` holds fail with `code`. */
export function failWrites(match: (path: string) => boolean, code: FailCode): FailingFs {
  const real = {
    open: fsp.open,
    writeFile: fsp.writeFile,
    appendFile: fsp.appendFile,
    mkdir: fsp.mkdir,
    rename: fsp.rename,
    copyFile: fsp.copyFile,
    rm: fsp.rm,
    unlink: fsp.unlink,
  };
  const failures: string[] = [];
  /** The matching path of `p`, recorded as a failure, or undefined when `p` is not one. */
  const hit = (p: unknown): string | undefined => {
    const path = pathOf(p);
    if (path === undefined || !match(path)) return undefined;
    failures.push(path);
    return path;
  };
  const full = code === 'ENOSPC';

  const patched = {
    open: async (p: Parameters<Fsp['open']>[0], flags?: string | number, mode?: number): Promise<FileHandle> => {
      const path = writesTo(flags) ? hit(p) : undefined;
      if (path === undefined) return real.open(p, flags, mode);
      if (!full) throw fsError(code, 'open', path);
      const handle = await real.open(p, flags, mode);
      const write = handle.write.bind(handle) as (
        b: Uint8Array,
        o: number,
        l: number,
        pos?: number,
      ) => Promise<unknown>;
      let landed = false;
      Object.assign(handle, {
        write: async (buffer: unknown, offset?: number, length?: number, position?: number) => {
          const bytes = bytesOf(buffer);
          const from = typeof offset === 'number' ? offset : 0;
          const len = typeof length === 'number' ? length : bytes.byteLength - from;
          if (!landed && len > 1) await write(bytes, from, Math.floor(len / 2), position ?? undefined);
          landed = true;
          throw fsError(code, 'write', path);
        },
        writeFile: async () => {
          throw fsError(code, 'write', path);
        },
        appendFile: async () => {
          throw fsError(code, 'write', path);
        },
      });
      return handle;
    },
    writeFile: async (p: Parameters<Fsp['writeFile']>[0], data: unknown, options?: unknown) => {
      const path = hit(p);
      if (path === undefined) return real.writeFile(p, data as string, options as undefined);
      if (full) {
        const bytes = bytesOf(data);
        await real.writeFile(p, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
        throw fsError(code, 'write', path);
      }
      throw fsError(code, 'open', path);
    },
    appendFile: async (p: Parameters<Fsp['appendFile']>[0], data: unknown, options?: unknown) => {
      const path = hit(p);
      if (path === undefined) return real.appendFile(p, data as string, options as undefined);
      if (full) {
        const bytes = bytesOf(data);
        await real.appendFile(p, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
        throw fsError(code, 'write', path);
      }
      throw fsError(code, 'open', path);
    },
    mkdir: async (p: Parameters<Fsp['mkdir']>[0], options?: unknown) => {
      const path = hit(p);
      if (path !== undefined) throw fsError(code, 'mkdir', path);
      return real.mkdir(p, options as undefined);
    },
    copyFile: async (src: Parameters<Fsp['copyFile']>[0], dest: Parameters<Fsp['copyFile']>[1], mode?: number) => {
      const path = hit(dest);
      if (path !== undefined) throw fsError(code, 'copyfile', path);
      return real.copyFile(src, dest, mode);
    },
    rename: async (from: Parameters<Fsp['rename']>[0], to: Parameters<Fsp['rename']>[1]) => {
      const path = full ? undefined : (hit(to) ?? hit(from));
      if (path !== undefined) throw fsError(code, 'rename', path);
      return real.rename(from, to);
    },
    rm: async (p: Parameters<Fsp['rm']>[0], options?: unknown) => {
      const path = full ? undefined : hit(p);
      if (path !== undefined) throw fsError(code, 'rm', path);
      return real.rm(p, options as undefined);
    },
    unlink: async (p: Parameters<Fsp['unlink']>[0]) => {
      const path = full ? undefined : hit(p);
      if (path !== undefined) throw fsError(code, 'unlink', path);
      return real.unlink(p);
    },
  };
  Object.assign(fsp, patched);
  syncBuiltinESMExports();
  return {
    failures,
    restore() {
      Object.assign(fsp, real);
      syncBuiltinESMExports();
    },
  };
}
