/**
 * The caption, clip and aesthetic stages wired into `scoreClip`, end to end on a real (generated) video with fixture
 * models: the tiny CLIP checkpoint (transformers layout, 16-d), the fixture aesthetic head (16-d input) and the
 * fixture ONNX captioners. Checks: the caption goes to the store as label `caption` (and into the manifest);
 * `clip_text_similarity` is the mean cosine of the first, middle and last frame's image embeddings with the
 * caption's text embedding, and `aesthetic` the mean head score of the same embeddings (recomputed here from frames
 * decoded independently); without models every stage records why it was not scored and no caption or score is
 * made up; a caption from an earlier run is what CLIP compares with; a head without CLIP, or of another width, is
 * refused at load.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { frameAt } from '../../../src/curation/caption/captioner.ts';
import { AestheticHead } from '../../../src/curation/clip/aesthetic-head.ts';
import { cosineSimilarity } from '../../../src/curation/clip/clip-scorer.ts';
import {
  applyClipScores,
  type ClipModels,
  loadClipModels,
  releaseClipModels,
  scoreClip,
} from '../../../src/curation/run/stages.ts';
import { CurationStore } from '../../../src/curation/store/curation-store.ts';
import { filterClips, writeManifest } from '../../../src/curation/store/filter.ts';
import { makeColourVideo, writeFixtureCaptioners } from '../caption/fixture-captioners.ts';

const CLIP = fileURLToPath(new URL('../../fixtures/clip/tiny-hf', import.meta.url));
const HEAD = fileURLToPath(new URL('../../fixtures/curation/aesthetic/aesthetic-tiny.pth', import.meta.url));
const SKIP = new Set(['motion', 'text']);

describe('model stages in scoreClip (fixture models)', () => {
  let dir: string;
  let video: string;
  let folders: ReturnType<typeof writeFixtureCaptioners>;
  let models: ClipModels;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-stages-'));
    folders = writeFixtureCaptioners(join(dir, 'captioners'));
    video = join(dir, 'colours.mkv');
    makeColourVideo(video);
    models = await loadClipModels({
      text: false,
      threads: 1,
      clipCheckpoint: CLIP,
      aestheticHead: HEAD,
      captioner: folders.image,
      videoCaptioner: folders.video,
      summariser: folders.summariser,
    });
  });
  after(async () => {
    await releaseClipModels(models);
    rmSync(dir, { recursive: true, force: true });
  });

  test('caption → label, clip_text_similarity and aesthetic from the first, middle and last frame', async () => {
    const clip = { id: 'v:0-30', path: video, startTime: 0, endTime: 3, fps: 10 };
    const r = await scoreClip(clip, models, { skip: SKIP });
    assert.equal(r.kind, 'scored');
    if (r.kind !== 'scored') return;
    const by = Object.fromEntries(r.stages.map((s) => [s.stage, s]));
    assert.deepEqual(
      r.stages.map((s) => `${s.stage} ${s.status}`),
      ['caption done', 'clip done', 'aesthetic done'],
    );
    assert.deepEqual(by.caption.labels, {
      caption: 'a video of blue',
      caption_image: 'a red square',
      caption_video: 'a blue sky',
    });

    // Independently: decode the three frames, embed them, score them.
    const scorer = models.clip!;
    const frames = [];
    for (const t of [0, 1.45, 2.9]) frames.push(await frameAt(video, t, scorer.frame));
    const emb = await scorer.embedImages(frames);
    const text = await scorer.embedText('a video of blue');
    const sims = emb.map((e) => cosineSimilarity(e, text));
    const head = await AestheticHead.load(HEAD);
    const aes = emb.map((e) => head.scoreEmbedding(e));
    const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
    assert.ok(Math.abs(by.clip.scores!.clip_text_similarity - mean(sims)) < 1e-6);
    assert.ok(Math.abs(by.aesthetic.scores!.aesthetic - mean(aes)) < 1e-6);
    assert.ok(Math.abs(sims[0] - sims[1]) > 1e-3, 'the red middle frame differs from the blue ends');
    const detail = JSON.parse(by.clip.detail!) as { frames: number[]; text: string };
    assert.equal(detail.text, 'a video of blue');
    assert.equal(detail.frames.length, 3);

    // Into the store and the manifest.
    const store = CurationStore.open(join(dir, 'corpus.db'));
    store.addSource({ id: 'v', path: video, size: 1, mtime: 1 });
    store.addClips('v', [{ id: clip.id, startFrame: 0, endFrame: 30, startTime: 0, endTime: 3, fps: 10 }]);
    applyClipScores(store, clip.id, r);
    const row = store.clip(clip.id)!;
    assert.equal(row.labels.caption, 'a video of blue');
    assert.ok(Number.isFinite(row.scores.aesthetic) && Number.isFinite(row.scores.clip_text_similarity));
    const manifest = join(dir, 'manifest.jsonl');
    await writeManifest(manifest, filterClips(store, {}).kept);
    store.close();
    const line = JSON.parse(readFileSync(manifest, 'utf8').trim()) as {
      caption: string;
      scores: Record<string, number>;
    };
    assert.equal(line.caption, 'a video of blue');
    assert.ok('aesthetic' in line.scores && 'clip_text_similarity' in line.scores);
  });

  test('no models: every stage says why, nothing is invented', async () => {
    const r = await scoreClip({ id: 'x', path: video, startTime: 0, endTime: 3, fps: 10 }, {}, { skip: SKIP });
    assert.deepEqual(r, {
      kind: 'scored',
      stages: [
        { stage: 'caption', status: 'skipped', detail: 'no captioner given' },
        { stage: 'clip', status: 'skipped', detail: 'not scored: no CLIP weights given' },
        { stage: 'aesthetic', status: 'skipped', detail: 'not scored: no aesthetic head given' },
      ],
    });
  });

  test('CLIP without a captioner: no similarity (says why) unless an earlier run stored a caption', async () => {
    const only = { clip: models.clip, aesthetic: models.aesthetic };
    const clip = { id: 'x', path: video, startTime: 0, endTime: 3, fps: 10 };
    const r = await scoreClip(clip, only, { skip: SKIP });
    assert.ok(r.kind === 'scored');
    assert.deepEqual(r.stages[1], {
      stage: 'clip',
      status: 'skipped',
      detail: 'not scored: the clip has no caption to compare with',
    });
    assert.equal(r.stages[2].status, 'done');
    const again = await scoreClip({ ...clip, labels: { caption: 'a red square' } }, only, {
      skip: new Set([...SKIP, 'caption', 'aesthetic']),
    });
    assert.ok(again.kind === 'scored');
    assert.equal(again.stages.length, 1);
    assert.equal(JSON.parse(again.stages[0].detail!).text, 'a red square');
  });

  test('load-time errors: an aesthetic head without CLIP, or of another width', async () => {
    await assert.rejects(loadClipModels({ text: false, aestheticHead: HEAD }), /needs a CLIP checkpoint/);
    const real = fileURLToPath(
      new URL('../../../../shared/models/laion-aesthetic/sac+logos+ava1-l14-linearMSE.pth', import.meta.url),
    );
    await assert.rejects(
      loadClipModels({
        text: false,
        threads: 1,
        clipCheckpoint: CLIP,
        aestheticHead: process.env.SVD_AESTHETIC_HEAD ?? real,
      }),
      /(takes 768-d embeddings, the CLIP checkpoint .* gives 16-d)|(cannot read)/,
    );
    await assert.rejects(
      loadClipModels({ text: false, captioner: folders.video }),
      /an image captioner needs pixel_values \[1, 3, H, W\]/,
    );
  });
});
