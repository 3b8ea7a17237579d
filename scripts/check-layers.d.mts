// Types for scripts/check-layers.mjs (plain Node ESM, so that it runs without tsx); used by its test.

export interface ModuleReference {
  specifier: string;
  /** Line of the `import` / `export` / `new` keyword, 1-based. */
  line: number;
  kind: 'import' | 'export' | 'dynamic' | 'url';
}

export interface LayerViolation {
  /** Path relative to the checked root, `/`-separated; a folder ends with `/`. */
  file: string;
  /** 0 for a folder or file that is itself the violation. */
  line: number;
  from: string;
  to: string;
  specifier: string;
  /** The line the script prints. */
  message: string;
}

export interface Token {
  t: 'id' | 'str' | 'tpl' | 'num' | 'punct' | 'regex';
  v: string;
  line: number;
}

export const ALLOWED: Readonly<Record<string, readonly string[]>>;
export const SCANNED: readonly string[];
export function tokenize(src: string): Token[];
export function extractImports(src: string): ModuleReference[];
export function checkLayers(root: string): { violations: LayerViolation[]; files: number; imports: number };
