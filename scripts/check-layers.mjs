#!/usr/bin/env node
// Layer-order check, part of `npm test`: every import in src/ and bench/ must follow the table below.
// Reads every .ts/.mjs (and .mts/.cts/.js/.cjs) file under src/ and bench/, extracts its static imports and
// re-exports (`import … from`, `import type … from`, `import '…'`, `export … from`), its `import('…')` calls and its
// `new URL('…', import.meta.url)` references to code files (worker entries), resolves the relative ones and reports
// each edge that goes against the table, one line per violation, then a summary; exit 1 when there is any.
// Node built-ins and npm packages are ignored. Reading data files (fixtures, package.json) by path is not an import.
// Usage: node scripts/check-layers.mjs [repo-root]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CORE = ['tensor', 'graph', 'runtime', 'nn', 'weights', 'diffusion', 'models', 'conditioning', 'video'];
const APPS = [...CORE, 'pipeline', 'training', 'curation', 'eval'];

/** Layer (first folder under src/) → the layers it may import besides itself. */
export const ALLOWED = {
  tensor: [],
  graph: ['tensor'],
  runtime: ['tensor', 'graph'],
  diffusion: ['tensor', 'graph'], // diffusion knows no model
  video: ['tensor'], // image/video IO
  nn: ['tensor', 'graph', 'runtime'],
  weights: ['tensor', 'graph', 'runtime', 'nn'],
  models: ['tensor', 'graph', 'runtime', 'nn', 'weights', 'diffusion'],
  conditioning: ['tensor', 'graph', 'runtime', 'nn', 'weights', 'diffusion', 'models'],
  training: CORE,
  curation: CORE,
  eval: CORE,
  pipeline: CORE,
  cli: [...APPS, 'server'], // the front ends do not import each other, except cli → server
  server: APPS,
  web: APPS,
};

/** Top-level folders scanned; bench/ may import anything under src/ but no code under test/. */
export const SCANNED = ['src', 'bench'];

const CODE_EXT = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs']);
const KEYWORDS_BEFORE_EXPR = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * Splits JS/TS source into tokens, dropping comments: { t: 'id' | 'str' | 'tpl' | 'num' | 'punct', v, line }.
 * Strings carry their (unescaped enough for specifiers) value; template literals without `${}` count as strings.
 */
export function tokenize(src) {
  const tokens = [];
  const braces = []; // per open `{`: true when it opened a template substitution `${`
  let line = 1;
  let i = 0;
  const n = src.length;
  const push = (t, v, l) => tokens.push({ t, v, line: l });
  const regexAllowed = () => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.t === 'id') return KEYWORDS_BEFORE_EXPR.has(prev.v);
    if (prev.t === 'punct') return ![')', ']', '}'].includes(prev.v);
    return false;
  };
  // Reads a template literal body from i (just after ` or the } closing a substitution) to its end or to `${`.
  const readTemplate = (startLine, head) => {
    let value = '';
    while (i < n) {
      const c = src[i];
      if (c === '\\') {
        value += src[i + 1] ?? '';
        if (src[i + 1] === '\n') line++;
        i += 2;
      } else if (c === '`') {
        i++;
        push(head ? 'str' : 'tpl', value, startLine);
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        push('tpl', value, startLine);
        braces.push(true);
        return;
      } else {
        if (c === '\n') line++;
        value += c;
        i++;
      }
    }
    push('tpl', value, startLine);
  };
  while (i < n) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
      i = stop;
    } else if (c === '#' && i === 0 && src[1] === '!') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === "'" || c === '"') {
      const startLine = line;
      let value = '';
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') {
        if (src[i] === '\\') {
          value += src[i + 1] ?? '';
          i += 2;
        } else {
          value += src[i++];
        }
      }
      i++;
      push('str', value, startLine);
    } else if (c === '`') {
      i++;
      readTemplate(line, true);
    } else if (c === '/' && regexAllowed()) {
      // Regular expression literal: skip it (it may hold quotes or slashes).
      i++;
      let inClass = false;
      while (i < n && src[i] !== '\n') {
        const d = src[i];
        if (d === '\\') i += 2;
        else {
          i++;
          if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
        }
      }
      while (i < n && /[a-z]/i.test(src[i])) i++;
      push('regex', '', line);
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$\u0080-\uffff]/.test(src[j])) j++;
      push('id', src.slice(i, j), line);
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(src[j])) j++;
      push('num', src.slice(i, j), line);
      i = j;
    } else if (c === '{') {
      braces.push(false);
      push('punct', c, line);
      i++;
    } else if (c === '}') {
      i++;
      if (braces.pop()) readTemplate(line, false);
      else push('punct', c, line);
    } else {
      push('punct', c, line);
      i++;
    }
  }
  return tokens;
}

/**
 * The module references of a source text: [{ specifier, line, kind }], kind one of 'import' (static import or
 * import type), 'export' (re-export), 'dynamic' (import('…')) or 'url' (new URL('…', import.meta.url)).
 * `line` is the line of the `import` / `export` / `new` keyword.
 */
export function extractImports(src) {
  const tk = tokenize(src);
  const out = [];
  const is = (k, t, v) => tk[k] !== undefined && tk[k].t === t && (v === undefined || tk[k].v === v);
  // From k, finds `from '<specifier>'` before the statement ends; returns its string token or undefined.
  const findFrom = (k) => {
    let depth = 0;
    for (; k < tk.length; k++) {
      const x = tk[k];
      if (x.t === 'punct' && x.v === '{') depth++;
      else if (x.t === 'punct' && x.v === '}') depth--;
      else if (depth === 0 && x.t === 'punct' && (x.v === ';' || x.v === '=' || x.v === '(')) return undefined;
      else if (depth === 0 && x.t === 'id' && x.v === 'from' && is(k + 1, 'str')) return tk[k + 1];
      else if (depth === 0 && x.t === 'id' && (x.v === 'import' || x.v === 'export')) return undefined;
    }
    return undefined;
  };
  for (let k = 0; k < tk.length; k++) {
    const x = tk[k];
    if (x.t !== 'id') continue;
    const afterDot = is(k - 1, 'punct', '.') && !is(k - 2, 'punct', '.'); // obj.import, not ...spread
    if (afterDot) continue;
    if (x.v === 'import') {
      if (is(k + 1, 'punct', '(')) {
        if (is(k + 2, 'str') && (is(k + 3, 'punct', ')') || is(k + 3, 'punct', ','))) {
          out.push({ specifier: tk[k + 2].v, line: x.line, kind: 'dynamic' });
        }
      } else if (is(k + 1, 'str')) {
        out.push({ specifier: tk[k + 1].v, line: x.line, kind: 'import' });
      } else if (!is(k + 1, 'punct', '.')) {
        const s = findFrom(k + 1);
        if (s) out.push({ specifier: s.v, line: x.line, kind: 'import' });
      }
    } else if (x.v === 'export') {
      let k2 = k + 1;
      if (is(k2, 'id', 'type')) k2++;
      if (is(k2, 'punct', '*') || is(k2, 'punct', '{')) {
        const s = findFrom(k2);
        if (s) out.push({ specifier: s.v, line: x.line, kind: 'export' });
      }
    } else if (
      x.v === 'new' &&
      is(k + 1, 'id', 'URL') &&
      is(k + 2, 'punct', '(') &&
      is(k + 3, 'str') &&
      is(k + 4, 'punct', ',') &&
      is(k + 5, 'id', 'import') &&
      is(k + 6, 'punct', '.') &&
      is(k + 7, 'id', 'meta') &&
      is(k + 8, 'punct', '.') &&
      is(k + 9, 'id', 'url')
    ) {
      out.push({ specifier: tk[k + 3].v, line: x.line, kind: 'url' });
    }
  }
  return out;
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (CODE_EXT.has(extname(name))) out.push(path);
  }
  return out;
}

const posix = (p) => p.split(sep).join('/');

/** Where a repo-relative path sits: { top, layer } — layer is the folder under src/ ('' for a file directly in src/). */
function locate(rel) {
  const parts = rel.split('/');
  if (parts[0] !== 'src') return { top: parts[0], layer: undefined };
  return { top: 'src', layer: parts.length > 2 ? parts[1] : '' };
}

/**
 * Checks the tree at `root`. Returns { violations, files, imports }; each violation is
 * { file, line, from, to, specifier, message } with `file` relative to root, and `message` the line to print.
 */
export function checkLayers(root) {
  root = resolve(root);
  const violations = [];
  let files = 0;
  let imports = 0;
  const srcDir = join(root, 'src');
  const srcLayers = statSafe(srcDir)?.isDirectory() ? readdirSync(srcDir).sort() : [];
  for (const name of srcLayers) {
    if (name.startsWith('.')) continue;
    const isDir = statSync(join(srcDir, name)).isDirectory();
    if (isDir && !Object.hasOwn(ALLOWED, name)) {
      violations.push({
        file: `src/${name}/`,
        line: 0,
        from: name,
        to: '',
        specifier: '',
        message: `src/${name}/: unknown layer "${name}", add it to the table in scripts/check-layers.mjs`,
      });
    } else if (!isDir && CODE_EXT.has(extname(name))) {
      violations.push({
        file: `src/${name}`,
        line: 0,
        from: '',
        to: '',
        specifier: '',
        message: `src/${name}: file directly under src/ belongs to no layer, move it into a layer folder`,
      });
    }
  }
  for (const top of SCANNED) {
    const dir = join(root, top);
    if (!statSafe(dir)?.isDirectory()) continue;
    for (const path of walk(dir)) {
      files++;
      const file = posix(relative(root, path));
      const here = locate(file);
      const from = here.top === 'src' ? here.layer : here.top;
      if (here.top === 'src' && !Object.hasOwn(ALLOWED, from)) continue; // reported above
      for (const ref of extractImports(readFileSync(path, 'utf8'))) {
        if (!ref.specifier.startsWith('./') && !ref.specifier.startsWith('../')) continue; // built-in or package
        const target = posix(relative(root, resolve(dirname(path), ref.specifier.split(/[?#]/)[0])));
        // new URL() names a file; only a code file (a worker entry, a module) is an import. Data is not.
        if (ref.kind === 'url' && !CODE_EXT.has(extname(target))) continue;
        imports++;
        const there = locate(target);
        let to;
        if (here.top === 'src') {
          if (there.top !== 'src') to = there.top === '..' ? 'outside the repository' : there.top;
          else if (there.layer !== from && Object.hasOwn(ALLOWED, there.layer) && !ALLOWED[from].includes(there.layer))
            to = there.layer;
        } else if (there.top === 'test') {
          to = 'test';
        }
        if (to === undefined) continue;
        violations.push({
          file,
          line: ref.line,
          from,
          to,
          specifier: ref.specifier,
          message: `${file}:${ref.line}: ${from} must not import ${to} (${ref.specifier})`,
        });
      }
    }
  }
  return { violations, files, imports };
}

function statSafe(path) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function main() {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  const { violations, files, imports } = checkLayers(root);
  if (violations.length === 0) {
    console.log(`check-layers: ok (${files} files, ${imports} relative imports)`);
    return 0;
  }
  for (const v of violations) console.error(v.message);
  const inFiles = new Set(violations.map((v) => v.file)).size;
  console.error(
    `check-layers: ${violations.length} violation(s) in ${inFiles} file(s) or folder(s) (${files} files, ${imports} relative imports checked); the table is in scripts/check-layers.mjs`,
  );
  return 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
