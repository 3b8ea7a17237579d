/**
 * The byte-level BPE of GPT-2 and the models that share its tokenizer files (`vocab.json` + `merges.txt`: GPT-2,
 * BART, RoBERTa, ViT-GPT2 captioners, Qwen2 / SmolLM-style LLMs): text → GPT-2's pre-tokenizer regex → each piece's
 * UTF-8 bytes as printable symbols (`bytes_to_unicode`, the same table as CLIP's) → lowest-rank merges → ids; and
 * ids → symbols → bytes → UTF-8 text. Used by the ONNX captioners to decode generated ids and to encode a
 * summariser's input; no text cleaning and no `</w>` (those are CLIP's).
 */
import { readFile } from 'node:fs/promises';
import { BpeRanks, bytesToUnicode } from '../../models/clip/tokenizer.ts';

/** GPT-2's pre-tokenizer. */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export class ByteLevelBpeError extends Error {
  override name = 'ByteLevelBpeError';
}

export class ByteLevelBpe {
  private readonly encoder: Map<string, number>;
  private readonly decoder: Map<number, string>;
  private readonly ranks: BpeRanks;
  private readonly byteToSymbol: string[];
  private readonly symbolToByte: Map<string, number>;

  constructor(
    vocab: Record<string, number>,
    merges: readonly (readonly string[])[],
    readonly source = 'vocab.json + merges.txt',
  ) {
    this.encoder = new Map(Object.entries(vocab));
    this.decoder = new Map([...this.encoder].map(([k, v]) => [v, k]));
    this.ranks = new BpeRanks(merges);
    const table = bytesToUnicode();
    this.byteToSymbol = [...table].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    this.symbolToByte = new Map([...table].map(([b, c]) => [c, b]));
  }

  /** Reads `vocab.json` (token → id) and `merges.txt` (a `#version` header line is skipped). */
  static async load(vocabJson: string, mergesTxt?: string): Promise<ByteLevelBpe> {
    let vocab: Record<string, number>;
    try {
      vocab = JSON.parse(await readFile(vocabJson, 'utf8')) as Record<string, number>;
    } catch (e) {
      throw new ByteLevelBpeError(`${vocabJson}: cannot read the vocabulary (${(e as Error).message.split('\n')[0]})`);
    }
    let merges: string[][] = [];
    if (mergesTxt) {
      merges = (await readFile(mergesTxt, 'utf8'))
        .split('\n')
        .filter((l, i) => !(i === 0 && l.startsWith('#version')))
        .map((l) => l.trim().split(/\s+/))
        .filter((m) => m.length === 2);
    }
    return new ByteLevelBpe(vocab, merges, mergesTxt ? `${vocabJson} + merges.txt` : vocabJson);
  }

  get vocabSize(): number {
    return this.decoder.size;
  }

  /** The id of a token string (e.g. a special token), or undefined. */
  id(token: string): number | undefined {
    return this.encoder.get(token);
  }

  /** Text → ids (no special tokens added). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const m of text.matchAll(GPT2_PATTERN)) {
      const symbols = Array.from(new TextEncoder().encode(m[0]), (b) => this.byteToSymbol[b]);
      for (const s of this.ranks.merge(symbols)) {
        const id = this.encoder.get(s);
        if (id === undefined)
          throw new ByteLevelBpeError(`${this.source}: no token ${JSON.stringify(s)} in the vocabulary`);
        out.push(id);
      }
    }
    return out;
  }

  /** Ids → text; ids in `skip` (special tokens) and unknown ids are left out. */
  decode(ids: readonly number[], skip: ReadonlySet<number> = new Set()): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (skip.has(id)) continue;
      const token = this.decoder.get(id);
      if (token === undefined) continue;
      for (const ch of token) {
        const b = this.symbolToByte.get(ch);
        if (b !== undefined) bytes.push(b);
        else bytes.push(...new TextEncoder().encode(ch)); // added tokens spelled in plain text
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
}
