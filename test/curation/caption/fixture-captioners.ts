/**
 * Tiny ONNX captioners that follow the README's captioner contract, written with the project's ONNX writer
 * (src/graph/onnx): Optimum-style folders (`encoder_model.onnx`, `decoder_model.onnx`, `vocab.json`, `merges.txt`,
 * `config.json`, `preprocessor_config.json`, `captioner.json`) whose behaviour is known exactly:
 *
 * - the decoder is a bigram table over a small byte-level BPE vocabulary plus a bias from the mean encoder state:
 *   logits = T[input_ids] + mean_S(encoder_hidden_states) · W, so greedy decoding follows T's transitions and takes
 *   the colour branch the encoder states point to;
 * - image: the encoder's state is the per-channel mean of `pixel_values` [1, 3, 16, 16] → "a red square" on a red
 *   frame, "a blue sky" on a blue one;
 * - video: per-frame channel means of `pixel_values` [1, 4, 3, 16, 16] (4 frames), the same decoder → the colour of
 *   most frames;
 * - summariser: the encoder embeds `input_ids` ("red" → red; "blue", "sky" → blue); its decoder says
 *   "a video of <colour>" for the colour the input mentions most ("a red square. a blue sky." → blue).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attr,
  encodeModel,
  float32Tensor,
  int64Tensor,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from '../../../src/graph/onnx/model-proto.ts';
import { bytesToUnicode } from '../../../src/models/clip/tokenizer.ts';

const WORDS = ['Ġred', 'Ġblue', 'Ġsquare', 'Ġsky', 'Ġvideo', 'Ġof'];

/** 256 byte symbols, every prefix merge of the words, the words, then <|endoftext|> (also the decoder start). */
export function fixtureVocab(): { vocab: Record<string, number>; merges: string[]; eos: number } {
  const vocab: Record<string, number> = {};
  let n = 0;
  for (const [, c] of [...bytesToUnicode()].sort((a, b) => a[0] - b[0])) vocab[c] = n++;
  const merges: string[] = [];
  for (const w of WORDS) {
    const chars = [...w];
    let acc = chars[0];
    for (const c of chars.slice(1)) {
      if (!merges.includes(`${acc} ${c}`)) merges.push(`${acc} ${c}`);
      acc += c;
      if (vocab[acc] === undefined) vocab[acc] = n++;
    }
  }
  vocab['<|endoftext|>'] = n++;
  return { vocab, merges, eos: n - 1 };
}

const input = (
  name: string,
  dtype: 'float32' | 'int64',
  shape: number[],
  dimParams?: (string | undefined)[],
): OnnxValueInfo => ({
  name,
  dtype,
  shape,
  dimParams,
});

function save(
  dir: string,
  file: string,
  nodes: OnnxNode[],
  inputs: OnnxValueInfo[],
  output: OnnxValueInfo,
  init: OnnxTensor[],
) {
  writeFileSync(
    join(dir, file),
    encodeModel({
      graphName: file,
      nodes,
      inputs,
      outputs: [output],
      initializers: init,
      opsets: { '': 17 },
      irVersion: 8,
    }),
  );
}

/** logits = Gather(T, input_ids) + ReduceMean_S(encoder_hidden_states) @ W. */
function bigramDecoder(dir: string, table: Float32Array, w: Float32Array, v: number, d: number, withMask: boolean) {
  const nodes: OnnxNode[] = [
    { opType: 'Gather', inputs: ['T', 'input_ids'], outputs: ['bigram'], attrs: { axis: attr.int(0) } },
    {
      opType: 'ReduceMean',
      inputs: ['encoder_hidden_states'],
      outputs: ['pooled'],
      attrs: { axes: attr.ints([1]), keepdims: attr.int(1) },
    },
    { opType: 'MatMul', inputs: ['pooled', 'W'], outputs: ['bias'] },
    { opType: 'Add', inputs: ['bigram', 'bias'], outputs: ['logits'] },
  ];
  const inputs = [
    input('input_ids', 'int64', [1, 0], [undefined, 'sequence']),
    input('encoder_hidden_states', 'float32', [1, 0, d], [undefined, 'encoder_sequence', undefined]),
  ];
  if (withMask) inputs.push(input('encoder_attention_mask', 'int64', [1, 0], [undefined, 'encoder_sequence']));
  save(
    dir,
    'decoder_model.onnx',
    nodes,
    inputs,
    input('logits', 'float32', [1, 0, v], [undefined, 'sequence', undefined]),
    [float32Tensor('T', [v, v], table), float32Tensor('W', [d, v], w)],
  );
}

function common(dir: string, eos: number, extra: Record<string, unknown> = {}) {
  const { vocab, merges } = fixtureVocab();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ decoder_start_token_id: eos, eos_token_id: eos, pad_token_id: eos, max_length: 20 }),
  );
  writeFileSync(join(dir, 'captioner.json'), JSON.stringify(extra));
}

/** Bigram transitions (token → next token, strength 10) and colour biases (channel → token, strength 5). */
function tables(v: number, d: number, chain: [string, string][], colours: [number, string][]) {
  const { vocab } = fixtureVocab();
  const table = new Float32Array(v * v);
  for (const [a, b] of chain) table[vocab[a] * v + vocab[b]] = 10;
  const w = new Float32Array(d * v);
  for (const [c, tok] of colours) w[c * v + vocab[tok]] = 5;
  return { table, w };
}

const CAPTION_CHAIN: [string, string][] = [
  ['<|endoftext|>', 'a'],
  ['Ġred', 'Ġsquare'],
  ['Ġblue', 'Ġsky'],
  ['Ġsquare', '<|endoftext|>'],
  ['Ġsky', '<|endoftext|>'],
];
const COLOURS: [number, string][] = [
  [0, 'Ġred'],
  [2, 'Ġblue'],
];

/** Writes the three captioner folders under `root`: image/, video/, summariser/. */
export function writeFixtureCaptioners(root: string): { image: string; video: string; summariser: string } {
  const { vocab, eos } = fixtureVocab();
  const v = Object.keys(vocab).length;
  const image = join(root, 'image');
  const video = join(root, 'video');
  const summariser = join(root, 'summariser');

  common(image, eos);
  writeFileSync(
    join(image, 'preprocessor_config.json'),
    JSON.stringify({ size: { height: 16, width: 16 }, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }),
  );
  save(
    image,
    'encoder_model.onnx',
    [
      {
        opType: 'ReduceMean',
        inputs: ['pixel_values'],
        outputs: ['m'],
        attrs: { axes: attr.ints([2, 3]), keepdims: attr.int(0) },
      },
      { opType: 'Unsqueeze', inputs: ['m', 'one'], outputs: ['last_hidden_state'] },
    ],
    [input('pixel_values', 'float32', [1, 3, 16, 16])],
    input('last_hidden_state', 'float32', [1, 1, 3]),
    [int64Tensor('one', [1])],
  );
  const cap = tables(v, 3, CAPTION_CHAIN, COLOURS);
  bigramDecoder(image, cap.table, cap.w, v, 3, false);

  common(video, eos);
  writeFileSync(
    join(video, 'preprocessor_config.json'),
    JSON.stringify({ size: { height: 16, width: 16 }, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }),
  );
  save(
    video,
    'encoder_model.onnx',
    [
      {
        opType: 'ReduceMean',
        inputs: ['pixel_values'],
        outputs: ['last_hidden_state'],
        attrs: { axes: attr.ints([3, 4]), keepdims: attr.int(0) },
      },
    ],
    [input('pixel_values', 'float32', [1, 4, 3, 16, 16])],
    input('last_hidden_state', 'float32', [1, 4, 3]),
    [],
  );
  bigramDecoder(video, cap.table, cap.w, v, 3, false);

  common(summariser, eos, { prompt: '{image}. {video}.', add_special_tokens: false });
  const emb = new Float32Array(v * 3);
  emb[vocab.Ġred * 3 + 0] = 1;
  for (const t of ['Ġblue', 'Ġsky']) emb[vocab[t] * 3 + 2] = 1;
  save(
    summariser,
    'encoder_model.onnx',
    [{ opType: 'Gather', inputs: ['E', 'input_ids'], outputs: ['last_hidden_state'], attrs: { axis: attr.int(0) } }],
    [
      input('input_ids', 'int64', [1, 0], [undefined, 'sequence']),
      input('attention_mask', 'int64', [1, 0], [undefined, 'sequence']),
    ],
    input('last_hidden_state', 'float32', [1, 0, 3], [undefined, 'sequence', undefined]),
    [float32Tensor('E', [v, 3], emb)],
  );
  const sum = tables(
    v,
    3,
    [
      ['<|endoftext|>', 'a'],
      ['a', 'Ġvideo'],
      ['Ġvideo', 'Ġof'],
      ['Ġred', '<|endoftext|>'],
      ['Ġblue', '<|endoftext|>'],
    ],
    COLOURS,
  );
  bigramDecoder(summariser, sum.table, sum.w, v, 3, true);
  return { image, video, summariser };
}

/** 3 s at 10 fps, 64×48: blue, red from 1.2 s to 1.8 s, blue (lossless FFV1, exact colours). */
export function makeColourVideo(path: string): void {
  const seg = (c: string, d: number) => ['-f', 'lavfi', '-i', `color=c=${c}:s=64x48:d=${d}:r=10`];
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    ...seg('blue', 1.2),
    ...seg('red', 0.6),
    ...seg('blue', 1.2),
    '-filter_complex',
    '[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv444p',
    '-c:v',
    'ffv1',
    path,
  ]);
}
