/**
 * The text cleaning of open_clip's `SimpleTokenizer` (OpenAI CLIP's tokenizer; `clean='lower'`, its default):
 *
 *   basic_clean(text)     = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
 *   whitespace_clean(t)   = " ".join(t.split()).strip()
 *   clean(text)           = whitespace_clean(basic_clean(text)).lower()
 *
 * with Python's own semantics: `str.split()` / `str.strip()` on Python's whitespace set (which differs from
 * JavaScript's `\s`: U+001C–U+001F and U+0085 are whitespace, U+FEFF is not), `html.unescape` with the HTML5 named
 * references (including the legacy ones without `;` and the longest-prefix rule), the invalid numeric references and
 * code points; and `ftfy.fix_text` (ftfy 6.3.1, default config) step by step per line: `unescape_html` (auto: off
 * from the first line holding `<`), `fix_c1_controls`, `fix_latin_ligatures`, `fix_character_width`,
 * `uncurl_quotes`, `fix_line_breaks`, `fix_surrogates`, `remove_terminal_escapes`, `remove_control_chars`, NFC,
 * repeated until nothing changes.
 *
 * Not reproduced: ftfy's mojibake repair (`fix_encoding`: a heuristic that re-decodes text such as "cafÃ©" as
 * "café"); such text is tokenized as it is. Text that ftfy does not judge to be mojibake (ordinary text in any
 * script) cleans exactly as in Python. The tables (HTML5 entities, ftfy's width map, Python's whitespace) are data
 * dumped from Python by scripts/make-clip-vectors.py into text-clean-data.json.
 */
import { readFileSync } from 'node:fs';

interface CleanData {
  html5: Record<string, string>;
  invalidCharrefs: Record<string, string>;
  invalidCodepoints: number[];
  ftfyUpperEntities: Record<string, string>;
  c1: Record<string, string>;
  width: Record<string, string>;
  pythonWhitespace: string;
}

let data: (CleanData & { invalid: Set<number>; ws: RegExp; wsEdge: RegExp }) | undefined;

function tables() {
  if (!data) {
    const d = JSON.parse(readFileSync(new URL('./text-clean-data.json', import.meta.url), 'utf8')) as CleanData;
    const cls = [...d.pythonWhitespace].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('');
    data = {
      ...d,
      invalid: new Set(d.invalidCodepoints),
      ws: new RegExp(`[${cls}]+`, 'u'),
      wsEdge: new RegExp(`^[${cls}]+|[${cls}]+$`, 'gu'),
    };
  }
  return data;
}

/** Python's `str.split()` (no argument): runs of Python whitespace separate; empty pieces dropped. */
export function pythonSplit(text: string): string[] {
  return text.split(tables().ws).filter((s) => s.length > 0);
}

/** Python's `str.strip()` (no argument). */
export function pythonStrip(text: string): string {
  return text.replace(tables().wsEdge, '');
}

/** Python's `html.unescape`. */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  const t = tables();
  return s.replace(/&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu, (_m, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
      const num = Number.parseInt(digits, hex ? 16 : 10);
      const invalid = t.invalidCharrefs[String(num)];
      if (invalid !== undefined) return invalid;
      if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
      if (t.invalid.has(num)) return '';
      return String.fromCodePoint(num);
    }
    const named = t.html5[ref];
    if (named !== undefined) return named;
    const cps = [...ref];
    for (let x = cps.length - 1; x > 1; x--) {
      const prefix = cps.slice(0, x).join('');
      const v = t.html5[prefix];
      if (v !== undefined) return v + cps.slice(x).join('');
    }
    return `&${ref}`;
  });
}

/** ftfy `unescape_html`: unambiguous entities ending in `;` (and ftfy's upper-case variants), numeric references. */
function ftfyUnescapeHtml(text: string): string {
  const t = tables();
  return text.replace(/&#?[0-9A-Za-z]{1,24};/g, (m) => {
    const name = m.slice(1);
    if (m[1] !== '#' && name.endsWith(';') && t.html5[name] !== undefined) return t.html5[name];
    const upper = t.ftfyUpperEntities[m];
    if (upper !== undefined) return upper;
    if (m.startsWith('&#')) {
      const u = htmlUnescape(m);
      return u.includes(';') ? m : u;
    }
    return m;
  });
}

const LIGATURES: Readonly<Record<string, string>> = {
  Ĳ: 'IJ',
  ĳ: 'ij',
  ŉ: 'ʼn',
  Ǳ: 'DZ',
  ǲ: 'Dz',
  ǳ: 'dz',
  Ǆ: 'DŽ',
  ǅ: 'Dž',
  ǆ: 'dž',
  Ǉ: 'LJ',
  ǈ: 'Lj',
  ǉ: 'lj',
  Ǌ: 'NJ',
  ǋ: 'Nj',
  ǌ: 'nj',
  ﬀ: 'ff',
  ﬁ: 'fi',
  ﬂ: 'fl',
  ﬃ: 'ffi',
  ﬄ: 'ffl',
  ﬅ: 'ſt',
  ﬆ: 'st',
};

function translate(text: string, map: Readonly<Record<string, string>>, pattern: RegExp): string {
  return text.replace(pattern, (c) => map[c] ?? c);
}

/** ftfy's fixers in `fix_and_explain` order, without `fix_encoding`, then NFC; until the text stops changing. */
function ftfySegment(text: string, entities: boolean): string {
  const t = tables();
  for (;;) {
    const orig = text;
    if (entities) text = ftfyUnescapeHtml(text);
    text = translate(text, t.c1, /[\u0080-\u009f]/g); // fix_c1_controls (sloppy-windows-1252)
    text = translate(text, LIGATURES, /[ĲĳŉǱǲǳǄǅǆǇǈǉǊǋǌﬀﬁﬂﬃﬄﬅﬆ]/g); // fix_latin_ligatures
    text = translate(text, t.width, /[\u3000\uff01-\uffef]/g); // fix_character_width
    text = text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'"); // uncurl_quotes
    text = text
      .replaceAll('\r\n', '\n')
      .replaceAll('\r', '\n')
      .replaceAll('\u2028', '\n')
      .replaceAll('\u2029', '\n')
      .replaceAll('\u0085', '\n'); // fix_line_breaks
    text = text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'); // fix_surrogates
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ftfy removes exactly these escape sequences
    text = text.replace(/\u001b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu, ''); // remove_terminal_escapes
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ftfy removes exactly these control characters
    text = text.replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g, ''); // remove_control_chars
    text = text.normalize('NFC');
    if (text === orig) return text;
  }
}

/** `ftfy.fix_text(text)` with the default configuration, minus mojibake repair (see the module comment). */
export function ftfyFixText(text: string): string {
  const out: string[] = [];
  let entities = true; // 'auto': switched off for good by the first line that contains '<'
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const segment = text.slice(pos, end);
    if (entities && segment.includes('<')) entities = false;
    out.push(ftfySegment(segment, entities));
    pos = end;
  }
  return out.join('');
}

/** open_clip `_clean_lower`: whitespace_clean(basic_clean(text)).lower(). */
export function clipCleanText(text: string): string {
  const basic = pythonStrip(htmlUnescape(htmlUnescape(ftfyFixText(text))));
  return pythonStrip(pythonSplit(basic).join(' ')).toLowerCase();
}
