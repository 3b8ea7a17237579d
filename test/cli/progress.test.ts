/** The CLI progress reporter: plain lines off a TTY, one throttled `\r` line on a TTY, nothing when quiet. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress, formatDuration } from '../../src/cli/progress.ts';

/** A stream that records what is written, and a clock the test moves. */
function harness(tty: boolean, columns?: number) {
  let text = '';
  let time = 0;
  const stream = { write: (s: string) => (text += s), isTTY: tty, columns };
  return {
    stream,
    now: () => time,
    advance: (ms: number) => (time += ms),
    output: () => text,
  };
}

test('plain mode: one line per stage start/end and per step, no control characters', () => {
  const h = harness(false);
  const p = createProgress({ stream: h.stream, now: h.now });
  p.stage('load');
  h.advance(1500);
  p.stage('sample');
  for (let i = 1; i <= 4; i++) {
    h.advance(500);
    p.step(i, 4);
  }
  p.done('wrote clip.mp4');
  const out = h.output();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that there are none
  assert.doesNotMatch(out.replaceAll('\n', ''), /[\u0000-\u001f\u007f]/);
  assert.deepEqual(out.trimEnd().split('\n'), [
    'load: started',
    'load: done in 1.5 s',
    'sample: started',
    'sample: step 1/4, 2.00 it/s, ETA 0:02',
    'sample: step 2/4, 2.00 it/s, ETA 0:01',
    'sample: step 3/4, 2.00 it/s, ETA 0:01',
    'sample: step 4/4, 2.00 it/s',
    'sample: 4/4 steps in 2.0 s, 2.00 it/s',
    'wrote clip.mp4',
  ]);
});

test('TTY mode: a single \\r-redrawn line, throttled to ~10 Hz, the last step always drawn', () => {
  const h = harness(true);
  const p = createProgress({ stream: h.stream, now: h.now });
  p.stage('decode');
  for (let i = 1; i <= 100; i++) {
    h.advance(5); // 200 steps a second: 500 ms in all
    p.step(i, 100);
  }
  const out = h.output();
  const redraws = out.split('\r').length - 1;
  // the stage line, one redraw per 100 ms (5 in 500 ms), and the final step
  assert.ok(redraws >= 5 && redraws <= 8, `${redraws} redraws`);
  assert.ok(!out.includes('\n'), 'the line is not finished while the stage runs');
  assert.ok(out.endsWith('\rdecode: step 100/100, 200.00 it/s\x1b[K'), JSON.stringify(out.slice(-80)));
  p.done();
  assert.ok(h.output().endsWith('\rdecode: 100/100 steps in 0.5 s, 200.00 it/s\x1b[K\n'));
});

test('TTY mode: log lines do not break the progress line; long lines fit the terminal', () => {
  const h = harness(true, 30);
  const p = createProgress({ stream: h.stream, now: h.now });
  p.stage('sample');
  h.advance(2000);
  p.step(1, 25);
  p.log('warning: frame size 512×512 differs');
  const out = h.output();
  assert.ok(out.includes('\r\x1b[Kwarning: frame size 512×512 differs\n'));
  // after the message the progress line is drawn again, cut to columns − 1
  assert.ok(out.endsWith('\rsample: step 1/25, 2.00 s/it,\x1b[K'), JSON.stringify(out));
});

test('quiet prints nothing', () => {
  const h = harness(true);
  const p = createProgress({ stream: h.stream, now: h.now, quiet: true });
  p.stage('sample');
  p.step(1, 2);
  p.log('x');
  p.done('summary');
  assert.equal(h.output(), '');
});

test('durations read as m:ss or h:mm:ss', () => {
  assert.equal(formatDuration(7), '0:07');
  assert.equal(formatDuration(754), '12:34');
  assert.equal(formatDuration(3723), '1:02:03');
});

test('a resumed run: the rate counts only the steps done since the stage started', () => {
  const h = harness(false);
  const p = createProgress({ stream: h.stream, now: h.now });
  p.stage('training');
  for (let i = 433; i <= 435; i++) {
    h.advance(2000);
    p.step(i, 1500);
  }
  const lines = h.output().trimEnd().split('\n');
  // 3 steps in 6 s = 2.00 s/it; 1065 steps left ≈ 35:30 — not 433 steps in 2 s (216 it/s, ETA 0:05)
  assert.equal(lines[1], 'training: step 433/1500, 2.00 s/it, ETA 35:34');
  assert.equal(lines[3], 'training: step 435/1500, 2.00 s/it, ETA 35:30');
});
