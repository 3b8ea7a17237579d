/**
 * The keys of a JSON object's top level, in the order they appear in the text, duplicates included.
 *
 * `JSON.parse` loses both facts: integer-like keys ("0", "12") enumerate before the others whatever their position,
 * and a repeated key silently keeps its last value. The safetensors reader needs the header's own order and must
 * reject repeated tensor names, so it scans the text itself.
 *
 * Call it only on text that `JSON.parse` accepted and whose root is an object: the scanner relies on that and does
 * not re-validate. It is linear in the length of the text and bounded by it, so it cannot hang.
 */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let i = skipWhitespace(text, 0);
  expect(text, i, '{');
  i = skipWhitespace(text, i + 1);
  if (text[i] === '}') return keys;
  for (;;) {
    expect(text, i, '"');
    const end = stringEnd(text, i);
    keys.push(JSON.parse(text.slice(i, end)) as string);
    i = skipWhitespace(text, end);
    expect(text, i, ':');
    i = skipWhitespace(text, skipValue(text, skipWhitespace(text, i + 1)));
    if (text[i] === '}') return keys;
    expect(text, i, ',');
    i = skipWhitespace(text, i + 1);
  }
}

function expect(text: string, i: number, char: string): void {
  if (text[i] !== char) throw new SyntaxError(`expected '${char}' at position ${i} of the JSON text`);
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** Index just past the closing quote of the string literal whose opening quote is at `i`. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  if (j >= text.length) throw new SyntaxError('unterminated string in the JSON text');
  return j + 1;
}

/** Index just past the JSON value that starts at `i`. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return stringEnd(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') j = stringEnd(text, j) - 1;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) return j + 1;
    }
    throw new SyntaxError('unterminated object or array in the JSON text');
  }
  // A number, true, false or null: runs up to the next delimiter.
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j])) j++;
  return j;
}
