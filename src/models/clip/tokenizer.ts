/**
 * The CLIP BPE tokenizer (OpenAI CLIP's `SimpleTokenizer`, as open_clip's `tokenizer.py` has it), from a user-given
 * checkpoint folder:
 *
 * - open_clip's `bpe_simple_vocab_16e6.txt.gz`: a header line, then merges; the vocabulary is built as open_clip
 *   builds it (the 256 byte symbols, the same with `</w>`, one entry per merge of lines 1 … 48894, then
 *   `<start_of_text>`, `<end_of_text>`): 49408 entries for the real file;
 * - transformers' `vocab.json` + `merges.txt` (CLIPTokenizer): the vocabulary as given, merges in file order,
 *   special tokens `<|startoftext|>`, `<|endoftext|>`.
 *
 * encode(text): {@link clipCleanText} (ftfy, html.unescape ×2, whitespace, lower case) → the regex
 * `<sot>|<eot>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+` (case-insensitive) → each piece's UTF-8
 * bytes as byte-level symbols, `</w>` on the last one → lowest-rank merges first until none applies → ids.
 * tokenize(texts, 77): [SOT] + ids + [EOT], cut to the context with EOT kept last, zero-padded (id 0, as open_clip).
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { HostTensor } from '../../tensor/host-tensor.ts';
import { clipCleanText } from './text-clean.ts';

/** OpenAI CLIP's context length. */
export const CLIP_CONTEXT_LENGTH = 77;

/**
 * GPT-2 / CLIP `bytes_to_unicode`: every byte ↦ a printable character (printable Latin-1 bytes map to themselves),
 * in Python's insertion order (the printable bytes first, then the rest): the order of the base vocabulary.
 */
export function bytesToUnicode(): Map<number, string> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(bs.map((b, i) => [b, String.fromCodePoint(cs[i])]));
}

export class ClipTokenizerError extends Error {
  override name = 'ClipTokenizerError';
}

/** Byte-pair merging over a rank table (shared by the CLIP tokenizer and byte-level BPE decoders). */
export class BpeRanks {
  private readonly ranks = new Map<string, number>();
  constructor(merges: readonly (readonly string[])[]) {
    merges.forEach((m, i) => {
      this.ranks.set(m.join(' '), i); // a later duplicate wins, as in Python's dict(zip(merges, range(n)))
    });
  }

  /** Python's `bpe()` loop: repeatedly merge the lowest-ranked adjacent pair (every occurrence, left to right). */
  merge(symbols: readonly string[]): string[] {
    let word = [...symbols];
    while (word.length > 1) {
      let best = Number.POSITIVE_INFINITY;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          first = word[i];
          second = word[i + 1];
        }
      }
      if (best === Number.POSITIVE_INFINITY) break;
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else next.push(word[i++]);
      }
      word = next;
    }
    return word;
  }
}

export interface ClipTokenizerParts {
  /** Token string → id. */
  encoder: ReadonlyMap<string, number>;
  /** Merges in rank order (a pair of symbols each; an empty merge, from an empty line, is kept as open_clip keeps it). */
  merges: readonly (readonly string[])[];
  /** The special token names as the vocabulary spells them. */
  sot: string;
  eot: string;
  /** Where the vocabulary came from, for messages. */
  source: string;
}

export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly vocabSize: number;
  readonly source: string;
  private readonly encoder: ReadonlyMap<string, number>;
  private readonly decoder: Map<number, string>;
  private readonly bpe: BpeRanks;
  private readonly byteSymbols = [...bytesToUnicode()].sort((a, b) => a[0] - b[0]).map(([, c]) => c); // by byte
  private readonly pattern: RegExp;
  private readonly cache = new Map<string, number[]>();

  constructor(parts: ClipTokenizerParts) {
    this.encoder = parts.encoder;
    this.source = parts.source;
    const sot = parts.encoder.get(parts.sot);
    const eot = parts.encoder.get(parts.eot);
    if (sot === undefined || eot === undefined) {
      throw new ClipTokenizerError(`${parts.source}: the vocabulary has no ${parts.sot} / ${parts.eot} token`);
    }
    this.sotId = sot;
    this.eotId = eot;
    this.vocabSize = Math.max(...parts.encoder.values()) + 1;
    this.decoder = new Map([...parts.encoder].map(([k, v]) => [v, k]));
    this.bpe = new BpeRanks(parts.merges);
    const esc = (s: string) => s.replace(/[|\\{}()[\]^$+*?.]/g, '\\$&');
    this.pattern = new RegExp(
      `${esc(parts.sot)}|${esc(parts.eot)}|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\p{White_Space}\\p{L}\\p{N}]+`,
      'giu',
    );
    for (const s of [parts.sot, parts.eot]) this.cache.set(s.toLowerCase(), [parts.encoder.get(s)!]);
  }

  /** open_clip's `bpe_simple_vocab_16e6.txt.gz` (gzip bytes or the text). */
  static fromOpenClipBpe(bytes: Uint8Array | string, source = 'bpe_simple_vocab_16e6.txt.gz'): ClipTokenizer {
    const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(gunzipSync(bytes));
    const lines = text.split('\n').slice(1, 49152 - 256 - 2 + 1);
    const merges = lines.map((l) => l.split(/[ \t\n\r\f\v]+/).filter((s) => s.length > 0));
    const symbols = [...bytesToUnicode().values()];
    const vocab = [...symbols, ...symbols.map((s) => `${s}</w>`), ...merges.map((m) => m.join(''))];
    vocab.push('<start_of_text>', '<end_of_text>');
    const encoder = new Map<string, number>();
    vocab.forEach((t, i) => {
      encoder.set(t, i); // a later duplicate wins, as in Python's dict(zip(vocab, range(len(vocab))))
    });
    return new ClipTokenizer({ encoder, merges, sot: '<start_of_text>', eot: '<end_of_text>', source });
  }

  /** transformers' CLIPTokenizer files: `vocab.json` (token → id) and `merges.txt` (`#version` header, pairs). */
  static fromHfFiles(vocabJson: string, mergesTxt: string, source = 'vocab.json + merges.txt'): ClipTokenizer {
    let vocab: Record<string, number>;
    try {
      vocab = JSON.parse(vocabJson) as Record<string, number>;
    } catch (e) {
      throw new ClipTokenizerError(`${source}: vocab.json is not JSON (${(e as Error).message})`);
    }
    // CLIPTokenizer: merges_handle.read().strip().split("\n")[1 : 49152 - 256 - 2 + 1], each line split on whitespace.
    const merges = mergesTxt
      .trim()
      .split('\n')
      .slice(1, 49152 - 256 - 2 + 1)
      .map((l) => l.split(/[ \t\n\r\f\v]+/).filter((x) => x.length > 0));
    return new ClipTokenizer({
      encoder: new Map(Object.entries(vocab)),
      merges,
      sot: '<|startoftext|>',
      eot: '<|endoftext|>',
      source,
    });
  }

  /** Reads whichever the folder has: `vocab.json` + `merges.txt`, else `bpe_simple_vocab_16e6.txt.gz`. */
  static async load(files: { vocabJson?: string; mergesTxt?: string; bpeGz?: string }): Promise<ClipTokenizer> {
    if (files.vocabJson && files.mergesTxt) {
      return ClipTokenizer.fromHfFiles(
        await readFile(files.vocabJson, 'utf8'),
        await readFile(files.mergesTxt, 'utf8'),
        `${files.vocabJson} + merges.txt`,
      );
    }
    if (files.bpeGz) return ClipTokenizer.fromOpenClipBpe(await readFile(files.bpeGz), files.bpeGz);
    throw new ClipTokenizerError('no CLIP vocabulary given (vocab.json + merges.txt, or bpe_simple_vocab_16e6.txt.gz)');
  }

  private bpeIds(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const bytes = new TextEncoder().encode(piece);
    const symbols = Array.from(bytes, (b) => this.byteSymbols[b]);
    symbols[symbols.length - 1] += '</w>';
    const ids = this.bpe.merge(symbols).map((s) => {
      const id = this.encoder.get(s);
      if (id === undefined)
        throw new ClipTokenizerError(`${this.source}: no token ${JSON.stringify(s)} in the vocabulary`);
      return id;
    });
    if (this.cache.size < 100_000) this.cache.set(piece, ids);
    return ids;
  }

  /** The ids of a text, without SOT / EOT (open_clip `encode`). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const m of clipCleanText(text).matchAll(this.pattern)) out.push(...this.bpeIds(m[0]));
    return out;
  }

  /** [SOT] + encode(text) + [EOT], cut to `contextLength` with EOT last, then zero padding (open_clip `__call__`). */
  tokenizeOne(text: string, contextLength = CLIP_CONTEXT_LENGTH): number[] {
    const ids = [this.sotId, ...this.encode(text), this.eotId];
    if (ids.length > contextLength) {
      ids.length = contextLength;
      ids[contextLength - 1] = this.eotId;
    }
    while (ids.length < contextLength) ids.push(0);
    return ids;
  }

  /** Token ids [texts, contextLength] (int64), the text tower's input. */
  tokenize(texts: readonly string[], contextLength = CLIP_CONTEXT_LENGTH): HostTensor<'int64'> {
    const rows = texts.flatMap((t) => this.tokenizeOne(t, contextLength));
    return HostTensor.int64([texts.length, contextLength], rows);
  }

  /** Tokens back to text (open_clip `decode`: `</w>` becomes a space). */
  decode(ids: readonly number[]): string {
    const symbolToByte = new Map(this.byteSymbols.map((s, b) => [s, b]));
    const text = ids.map((id) => this.decoder.get(id) ?? '').join('');
    const bytes: number[] = [];
    for (const ch of text.replaceAll('</w>', ' ')) {
      const b = symbolToByte.get(ch);
      if (b !== undefined) bytes.push(b);
      else bytes.push(...new TextEncoder().encode(ch));
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
}

/** The position of the EOT token in a row of ids: argmax, the first maximum (the EOT id is the largest id). */
export function eotIndex(ids: ArrayLike<number | bigint>, offset: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (Number(ids[offset + i]) > Number(ids[offset + best])) best = i;
  return best;
}
