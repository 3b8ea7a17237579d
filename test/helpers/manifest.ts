/** Reads the key/shape tables of test/fixtures/golden/manifests (`key<TAB>(shape tuple)` rows, `#` comments). */
import { readFileSync } from 'node:fs';
import { GOLDEN_DIR } from './golden.ts';

export function readKeyTable(name: string): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  for (const line of readFileSync(`${GOLDEN_DIR}manifests/${name}`, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [key, shape] = line.split('\t');
    const dims = shape
      .replace(/[()\s]/g, '')
      .split(',')
      .filter((d) => d !== '')
      .map(Number);
    rows.set(key, dims);
  }
  return rows;
}
