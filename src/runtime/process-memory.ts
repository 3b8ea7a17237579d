/** Process memory figures from /proc (Linux): peak resident (VmHWM) and proportional set size (PSS). */
import { readFileSync } from 'node:fs';

function field(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

export function memoryFigures(): { vmHWM?: number; rss?: number; pss?: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    let pss: number | undefined;
    try {
      pss = field(readFileSync('/proc/self/smaps_rollup', 'utf8'), 'Pss');
    } catch {
      pss = undefined;
    }
    return { vmHWM: field(status, 'VmHWM'), rss: field(status, 'VmRSS'), pss };
  } catch {
    return {};
  }
}

export function gib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
