/**
 * Captioners end to end on fixture ONNX models built with the project's ONNX writer (fixture-captioners.ts): frames
 * of a real video file in, caption text out, through the documented contract (Optimum-style encoder_model.onnx +
 * decoder_model.onnx, greedy decoding in TypeScript, byte-level BPE decoding; the summariser encodes its prompt with
 * the same BPE). The video is blue, with a red stretch around its middle frame: the middle-frame image captioner says
 * "a red square", the 4-frame video captioner "a blue sky", the summariser "a video of blue"; a captioner folder of
 * the wrong kind, or a decoder that wants past key values, is refused with the reason.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ByteLevelBpe } from '../../../src/curation/caption/byte-level-bpe.ts';
import { captionClip, releaseCaptioners, uniformTimes } from '../../../src/curation/caption/captioner.ts';
import { CaptionerError, loadOnnxCaptioner } from '../../../src/curation/caption/onnx-captioner.ts';
import { encodeModel } from '../../../src/graph/onnx/model-proto.ts';
import { fixtureVocab, makeColourVideo, writeFixtureCaptioners } from './fixture-captioners.ts';

describe('ONNX captioners (fixture models)', () => {
  let dir: string;
  let folders: ReturnType<typeof writeFixtureCaptioners>;
  let video: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'captioners-'));
    folders = writeFixtureCaptioners(dir);
    video = join(dir, 'colours.mkv');
    makeColourVideo(video);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('byte-level BPE: encode and decode round trip on the fixture vocabulary', async () => {
    const bpe = await ByteLevelBpe.load(join(folders.image, 'vocab.json'), join(folders.image, 'merges.txt'));
    const { vocab } = fixtureVocab();
    const ids = bpe.encode('a red square. a blue sky, naïve 😀');
    assert.deepEqual(ids.slice(0, 3), [vocab.a, vocab.Ġred, vocab.Ġsquare]);
    assert.equal(bpe.decode(ids), 'a red square. a blue sky, naïve 😀');
  });

  test('frames in, caption text out: image (middle frame), video (4 frames), summary', async () => {
    const image = await loadOnnxCaptioner(folders.image, 'image');
    const vid = await loadOnnxCaptioner(folders.video, 'video');
    const summariser = await loadOnnxCaptioner(folders.summariser, 'summariser');
    try {
      assert.deepEqual(image.frame, { width: 16, height: 16, fit: 'squash' });
      assert.equal(vid.frames, 4);
      assert.deepEqual(uniformTimes(0, 3, 10, 4), [0, 0.9666666666666667, 1.9333333333333333, 2.9]);
      const clip = { path: video, startTime: 0, endTime: 3, fps: 10 };
      assert.deepEqual(await captionClip(clip, { image }), {
        caption: 'a red square',
        image: 'a red square',
        video: undefined,
        summary: undefined,
      });
      assert.deepEqual(await captionClip(clip, { video: vid }), {
        caption: 'a blue sky',
        image: undefined,
        video: 'a blue sky',
        summary: undefined,
      });
      assert.deepEqual(await captionClip(clip, { image, video: vid, summariser }), {
        caption: 'a video of blue',
        image: 'a red square',
        video: 'a blue sky',
        summary: 'a video of blue',
      });
      // Without a captioner there is no caption (the stage records "no captioner given"), never an invented one.
      assert.equal(await captionClip(clip, {}), undefined);
      assert.equal(await captionClip(clip, { summariser }), undefined);
      // A clip of the red stretch only.
      assert.equal(
        (await captionClip({ path: video, startTime: 1.3, endTime: 1.7, fps: 10 }, { video: vid }))?.caption,
        'a red square',
      );
    } finally {
      await releaseCaptioners({ image, video: vid, summariser });
    }
  });

  test('the contract is checked: wrong kind of encoder, a decoder with past key values, no vocabulary', async () => {
    await assert.rejects(
      loadOnnxCaptioner(folders.video, 'image'),
      (e: unknown) => e instanceof CaptionerError && /\[1, T, 3, H, W\]/.test(e.message),
    );
    await assert.rejects(loadOnnxCaptioner(folders.image, 'summariser'), /input_ids/);
    const bad = join(dir, 'bad');
    writeFixtureCaptioners(bad);
    writeFileSync(
      join(bad, 'image', 'decoder_model.onnx'),
      encodeModel({
        graphName: 'd',
        nodes: [{ opType: 'Identity', inputs: ['past_key_values.0.key'], outputs: ['logits'] }],
        inputs: [
          { name: 'input_ids', dtype: 'int64', shape: [1, 1] },
          { name: 'encoder_hidden_states', dtype: 'float32', shape: [1, 1, 3] },
          { name: 'past_key_values.0.key', dtype: 'float32', shape: [1, 1] },
        ],
        outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 1] }],
        initializers: [],
        opsets: { '': 17 },
        irVersion: 8,
      }),
    );
    await assert.rejects(loadOnnxCaptioner(join(bad, 'image'), 'image'), /past key values/);
    rmSync(join(bad, 'video', 'vocab.json'));
    await assert.rejects(loadOnnxCaptioner(join(bad, 'video'), 'video'), /no vocab\.json/);
    await assert.rejects(loadOnnxCaptioner(join(dir, 'missing'), 'image'), /does not exist/);
  });
});
