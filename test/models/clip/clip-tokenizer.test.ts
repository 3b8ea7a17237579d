/**
 * The CLIP BPE tokenizer and its text cleaning against open_clip v3.3.0's `SimpleTokenizer` (with ftfy 6.3.1), run by
 * scripts/make-clip-vectors.py on 28 strings (ordinary captions, case, contractions, digits, whitespace of every kind,
 * NFD accents, curly quotes, ligatures, fullwidth forms, HTML entities (double-escaped, legacy, numeric, invalid,
 * ftfy's upper-case ones, text with tags), control characters and terminal escapes, C1 controls, emoji, CJK, Greek
 * final sigma, special-token literals, truncation to the context): the cleaned text and the ids must be identical,
 * with the fixture merges in both file formats (open_clip's .txt.gz and transformers' vocab.json + merges.txt), at
 * context 77 and 8. With SVD_CLIP_BPE pointing at the real bpe_simple_vocab_16e6.txt.gz (not in the repository),
 * also the ids of the real 49408-token vocabulary.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clipCleanText, htmlUnescape, pythonSplit } from '../../../src/models/clip/text-clean.ts';
import { ClipTokenizer, eotIndex } from '../../../src/models/clip/tokenizer.ts';

const FIX = fileURLToPath(new URL('../../fixtures/clip/', import.meta.url));

interface Case {
  text: string;
  clean: string;
  tiny77: number[];
  tiny8: number[];
  real77?: number[];
  real8?: number[];
}
const { cases } = JSON.parse(readFileSync(`${FIX}tokenizer-cases.json`, 'utf8')) as { cases: Case[] };

function unpadded(ids: number[]): number[] {
  const out = [...ids];
  while (out.length > 0 && out[out.length - 1] === 0) out.pop();
  return out;
}

function check(tok: ClipTokenizer, key: 'tiny' | 'real', skip: (c: Case) => boolean = () => false) {
  let n = 0;
  for (const c of cases) {
    if (skip(c)) continue;
    for (const ctx of [77, 8] as const) {
      const want = c[`${key}${ctx}`];
      if (!want) continue;
      const got = tok.tokenizeOne(c.text, ctx);
      assert.equal(got.length, ctx);
      assert.deepEqual(unpadded(got), want, `${JSON.stringify(c.text)} (context ${ctx})`);
      n++;
    }
  }
  return n;
}

describe('CLIP tokenizer', () => {
  test('text cleaning equals open_clip _clean_lower (ftfy + html.unescape ×2 + whitespace + lower)', () => {
    for (const c of cases) assert.equal(clipCleanText(c.text), c.clean, JSON.stringify(c.text));
  });

  test('Python semantics: str.split whitespace and html.unescape', () => {
    assert.deepEqual(pythonSplit('a\x1cb\x85c\ufeffd\u00a0e'), ['a', 'b', 'c\ufeffd', 'e']);
    assert.equal(
      htmlUnescape('&amp;amp; &ampx &notin; &notit; &#x41;&#0;&#x110000;&#128;&#1;'),
      '&amp; &x ∉ ¬it; A\ufffd\ufffd€',
    );
  });

  test('open_clip format (bpe .txt.gz): ids equal SimpleTokenizer at context 77 and 8', () => {
    const tok = ClipTokenizer.fromOpenClipBpe(readFileSync(`${FIX}tiny-openclip/bpe_simple_vocab_16e6.txt.gz`));
    assert.equal(tok.vocabSize, 634);
    assert.equal(tok.sotId, 632);
    assert.equal(tok.eotId, 633);
    assert.equal(check(tok, 'tiny'), cases.length * 2);
  });

  test('transformers format (vocab.json + merges.txt): the same ids', async () => {
    const tok = await ClipTokenizer.load({
      vocabJson: `${FIX}tiny-hf/vocab.json`,
      mergesTxt: `${FIX}tiny-hf/merges.txt`,
    });
    // The special-token literals are spelled differently in the two formats (<start_of_text> vs <|startoftext|>).
    const n = check(tok, 'tiny', (c) => c.text.includes('<start_of_text>'));
    assert.equal(n, (cases.length - 1) * 2);
  });

  test('tokenize: [texts, 77] int64; EOT is the argmax of each row', () => {
    const tok = ClipTokenizer.fromOpenClipBpe(readFileSync(`${FIX}tiny-openclip/bpe_simple_vocab_16e6.txt.gz`));
    const t = tok.tokenize(['a red car', 'x '.repeat(300)]);
    assert.deepEqual([...t.shape], [2, 77]);
    assert.equal(t.dtype, 'int64');
    const ids = t.data as BigInt64Array;
    assert.equal(Number(ids[eotIndex(ids, 0, 77)]), tok.eotId);
    assert.equal(eotIndex(ids, 77, 77), 76);
    assert.equal(tok.decode(tok.encode('a red car')).trim(), 'a red car');
  });

  const real = process.env.SVD_CLIP_BPE;
  test('the real vocabulary (SVD_CLIP_BPE=bpe_simple_vocab_16e6.txt.gz)', { skip: !real || !existsSync(real) }, () => {
    const tok = ClipTokenizer.fromOpenClipBpe(readFileSync(real!));
    assert.equal(tok.vocabSize, 49408);
    assert.equal(tok.sotId, 49406);
    assert.equal(tok.eotId, 49407);
    assert.equal(check(tok, 'real'), cases.length * 2);
  });
});
