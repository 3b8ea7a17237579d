/**
 * Text-area accuracy on real photographs (issue 10 item 10): clips made at test time from opencv-doc photos
 * (opencv-doc.ts) at 640×360, 8 fps, 2 s, H.264, each once plain and once with a drawtext overlay (DejaVu fonts,
 * sizes 24–56 px, light or dark, with or without a box, at varied places; two of them only in the last half second,
 * a title card that only the last sampled frame sees). A clip "has text" when its text area ≥ 1 % of the frame.
 * Asserted: recall ≥ 0.9 on the overlay clips, false positives ≤ 10 % on the plain ones, and that an overlay's
 * area is of the size of its text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clipTextArea } from '../../../src/curation/text/clip-text.ts';
import { TextDetector } from '../../../src/curation/text/text-detector.ts';
import { ffmpeg } from '../../training/data/test-videos.ts';
import { opencvData, TEXT_FREE_PHOTOS } from './opencv-doc.ts';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
const PHRASES = [
  'BIG SALE 50 PERCENT OFF',
  'Breaking News',
  'Subscribe for more videos',
  'www.example.com',
  'CHAPTER ONE',
  'Limited offer today only',
  'Live from the studio',
  'THE END',
  'Episode 12: The Return',
  'Call now 555 0199',
  'Summer Collection 2026',
  'Thanks for watching',
];
const HAS_TEXT = 0.01;

interface Made {
  photo: string;
  path: string;
  text?: string;
}

let dir: string;
let detector: TextDetector;
const overlays: Made[] = [];
const plain: Made[] = [];

function drawtext(i: number): string {
  const size = [24, 32, 40, 48, 56, 28][i % 6];
  const light = i % 2 === 0;
  const x = ['20', '(w-text_w)/2', 'w-text_w-20'][i % 3];
  const y = ['20', '(h-text_h)/2', 'h-text_h-30'][(i >> 1) % 3];
  const box = i % 3 === 0 ? `:box=1:boxcolor=${light ? 'black' : 'white'}@0.6:boxborderw=8` : '';
  const late = i === 5 || i === 10 ? `:enable='gte(t,1.5)'` : '';
  const text = PHRASES[i].replace(/:/g, '\\:');
  return `drawtext=fontfile=${FONT}:text='${text}':fontsize=${size}:fontcolor=${light ? 'white' : 'black'}:x=${x}:y=${y}${box}${late}`;
}

async function makeClip(photo: string, out: string, overlay?: string): Promise<void> {
  const chain = [
    'scale=640:360:force_original_aspect_ratio=increase',
    'crop=640:360',
    'setsar=1',
    ...(overlay ? [overlay] : []),
  ];
  await ffmpeg([
    '-loop',
    '1',
    '-i',
    opencvData(photo),
    '-t',
    '2',
    '-r',
    '8',
    '-vf',
    chain.join(','),
    '-c:v',
    'libx264',
    '-crf',
    '18',
    '-pix_fmt',
    'yuv420p',
    '-y',
    out,
  ]);
}

describe('text area on real photographs with and without overlays', { timeout: 300_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'svd-text-'));
    detector = await TextDetector.load({ threads: 2 });
    const photos = TEXT_FREE_PHOTOS.slice(0, PHRASES.length);
    for (let i = 0; i < photos.length; i++) {
      const base = photos[i].replace(/\.\w+$/, '');
      const p = join(dir, `${base}.mp4`);
      const o = join(dir, `${base}-text.mp4`);
      await makeClip(photos[i], p);
      await makeClip(photos[i], o, drawtext(i));
      plain.push({ photo: photos[i], path: p });
      overlays.push({ photo: photos[i], path: o, text: PHRASES[i] });
    }
  });
  after(async () => {
    await detector?.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('recall ≥ 0.9 on overlay clips, false positives ≤ 10 % on plain ones', async (t) => {
    let found = 0;
    for (const c of overlays) {
      const r = await clipTextArea(c.path, detector);
      t.diagnostic(`${c.photo} + "${c.text}": ${r.frames.map((a) => a.toFixed(4)).join(' / ')}`);
      if (r.area >= HAS_TEXT) found++;
      assert.ok(r.area < 0.35, `${c.photo}: one line of text covers ${r.area} of the frame`);
    }
    let falsePositives = 0;
    for (const c of plain) {
      const r = await clipTextArea(c.path, detector);
      if (r.area >= HAS_TEXT) {
        falsePositives++;
        t.diagnostic(`false positive ${c.photo}: ${r.area}`);
      }
    }
    t.diagnostic(`recall ${found}/${overlays.length}, false positives ${falsePositives}/${plain.length}`);
    assert.ok(found / overlays.length >= 0.9, `recall ${found}/${overlays.length}`);
    assert.ok(falsePositives / plain.length <= 0.1, `false positives ${falsePositives}/${plain.length}`);
  });

  test('a title card in the last half second is seen by the last sampled frame only', async () => {
    const late = overlays[5];
    const r = await clipTextArea(late.path, detector);
    assert.ok(r.frames[0] < HAS_TEXT && r.frames[1] < HAS_TEXT, JSON.stringify(r.frames));
    assert.ok(r.frames[2] >= HAS_TEXT, JSON.stringify(r.frames));
    assert.equal(r.area, r.frames[2]);
  });
});
