/**
 * `svd curate`: the video data-curation pipeline (src/curation/run/curate.ts) into a store, its statistics, the
 * percentile filter that writes the manifest `svd train` reads, and the store's contents.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CurateDistributedEvent, curateDistributed } from '../curation/queue/coordinator.ts';
import { CurateQueueError } from '../curation/queue/jobs.ts';
import { type CurateWorkerEvent, runCurateWorker } from '../curation/queue/worker.ts';
import { type CurateEvent, curate } from '../curation/run/curate.ts';
import { writeHistogram } from '../curation/run/histogram.ts';
import { type ClipModelOptions, type ClipModels, loadClipModels, releaseClipModels } from '../curation/run/stages.ts';
import { CorpusAnalytics } from '../curation/store/analytics.ts';
import { CurationStore, CurationStoreError } from '../curation/store/curation-store.ts';
import { filterCorpus, writeManifest } from '../curation/store/filter.ts';
import { CliError, usageError } from './errors.ts';
import { createProgress } from './progress.ts';

export const CURATE_USAGE = `usage: svd curate INPUT... --db FILE [--min-clip SECONDS] [MODELS] [--redis URL [--queue NAME]] [--quiet]
       svd curate worker --redis URL [--no-text] [MODELS] [--concurrency N] [--queue NAME] [--lock-duration S] [--stalled-interval S] [--quiet]
       svd curate stats --db FILE [--png DIR] [--json]
       svd curate filter --db FILE [--drop-bottom NAME=PERCENT,...] [--max NAME=X,...] [--min NAME=X,...] [--max-text X] [--label NAME=V[|V…],...] --out manifest.jsonl
       svd curate export --db FILE --parquet FILE
       svd curate show --db FILE [--json]

  INPUT              video files or folders (searched recursively)
  --db FILE          the corpus store (SQLite); re-running on the same inputs skips finished work
  --min-clip S       shortest clip kept, seconds (default 2)
  --no-text          skip the text-area stage (PP-OCRv4 on the first, middle and last frame of each clip)
MODELS (user-given; without them a clip records why a stage was not scored, nothing is invented; with --redis they
  are worker options):
  --clip-checkpoint P  CLIP weights, a folder or .safetensors in open_clip or transformers layout with its config
                     (and vocabulary) beside it: clip_text_similarity, the caption vs the first, middle, last frame
  --aesthetic-head F the LAION aesthetic head .pth (sac+logos+ava1-l14-linearMSE.pth; needs a ViT-L/14
                     --clip-checkpoint): aesthetic, the mean over the first, middle and last frame
  --captioner DIR    ONNX image captioner on the middle frame (README, "Captions": the export layout)
  --video-captioner DIR  ONNX video captioner on frames sampled uniformly over the clip
  --summariser DIR   ONNX text-to-text model summarising the two captions into the clip's caption
  --redis URL        scale out: queue the work as BullMQ jobs on this Redis (redis://HOST:PORT) for any number of
                     \`svd curate worker\` processes; this process applies their results to the store
  --queue NAME       queue base name (default svd-curate); workers and coordinator must agree; one coordinator each
worker: computes cut and score jobs from --redis (the videos must be at the same paths there); never opens a store;
  runs until SIGTERM / SIGINT (then finishes its running jobs; a second signal puts them back in the queue)
  --concurrency N    jobs at once (default 1)
  --lock-duration S  job lock, seconds (default 30): a killed worker's job is retried about this long after it died
  --stalled-interval S  how often to look for such jobs, seconds (default 30)
stats / filter thresholds / export run on DuckDB; --max-text X is --max text_area=X; --label keeps clips whose label
  is one of the values (camera_motion=pan-left: a camera LoRA's data); export writes one Parquet row per clip with a
  column per score and label
scores: motion_score (mean Farneback flow at 2 fps / frame diagonal), motion_bucket (0–255, corpus percentile),
  text_area (fraction of the frame covered by detected text, the largest of the three sampled frames),
  clip_text_similarity (cosine, −1…1), aesthetic (LAION, roughly 1–10);
labels: camera_motion (pan-left|pan-right|pan-up|pan-down|zoom-in|zoom-out|static|other), caption (+ caption_image,
  caption_video)`;

const MODEL_OPTIONS = {
  'clip-checkpoint': { type: 'string' },
  'aesthetic-head': { type: 'string' },
  captioner: { type: 'string' },
  'video-captioner': { type: 'string' },
  summariser: { type: 'string' },
} as const;

/** The per-clip models the options ask for; undefined: curate's defaults (the bundled text detector). */
async function clipModelsFrom(values: Record<string, string | boolean | undefined>): Promise<ClipModels | undefined> {
  const o: ClipModelOptions = {
    text: values['no-text'] ? false : undefined,
    clipCheckpoint: values['clip-checkpoint'] as string | undefined,
    aestheticHead: values['aesthetic-head'] as string | undefined,
    captioner: values.captioner as string | undefined,
    videoCaptioner: values['video-captioner'] as string | undefined,
    summariser: values.summariser as string | undefined,
  };
  if (!o.clipCheckpoint && !o.aestheticHead && !o.captioner && !o.videoCaptioner && !o.summariser) {
    return values['no-text'] ? {} : undefined;
  }
  try {
    return await loadClipModels(o);
  } catch (e) {
    throw new CliError(`svd curate: ${(e as Error).message.split('\n')[0]}`, 1);
  }
}

/** `camera_motion=pan-left|pan-right,other=x` → { camera_motion: [pan-left, pan-right], other: [x] }. */
function labelPairs(value: string | undefined): Record<string, string[]> {
  if (value === undefined) return {};
  const out: Record<string, string[]> = {};
  for (const part of value.split(',')) {
    const m = /^([A-Za-z_][\w.]*)=([^=]+)$/.exec(part.trim());
    if (!m) throw usageError(`svd curate: --label ${JSON.stringify(value)}: expected NAME=VALUE[|VALUE…][,NAME=…]`);
    out[m[1]] = m[2].split('|');
  }
  return out;
}

function pairs(flag: string, value: string | undefined): Record<string, number> {
  if (value === undefined) return {};
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const m = /^([A-Za-z_][\w.]*)=(-?\d+(\.\d+)?)$/.exec(part.trim());
    if (!m) throw usageError(`svd curate: --${flag} ${JSON.stringify(value)}: expected NAME=NUMBER[,NAME=NUMBER…]`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Seconds → ms for a positive-number option. */
function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!(v > 0)) throw usageError(`svd curate worker: --${flag} ${JSON.stringify(value)}: expected seconds > 0`);
  return Math.round(v * 1000);
}

/** `svd curate worker`: computes queued jobs until SIGTERM / SIGINT (one drains, a second releases the jobs). */
async function curateWorkerCommand(argv: readonly string[]): Promise<number> {
  const stop = new AbortController();
  const force = new AbortController();
  const onSignal = (name: string) => {
    if (!stop.signal.aborted) {
      console.error(
        `svd curate worker: ${name}: finishing the running jobs (${name} again puts them back in the queue)`,
      );
      stop.abort();
    } else force.abort();
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          redis: { type: 'string' },
          concurrency: { type: 'string' },
          queue: { type: 'string' },
          'lock-duration': { type: 'string' },
          'stalled-interval': { type: 'string' },
          'no-text': { type: 'boolean' },
          ...MODEL_OPTIONS,
          quiet: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      }));
    } catch (e) {
      throw usageError(`svd curate worker: ${(e as Error).message.split('\n')[0]}`);
    }
    if (values.help) {
      console.log(CURATE_USAGE);
      return 0;
    }
    const redisUrl = values.redis as string | undefined;
    if (!redisUrl) throw usageError('svd curate worker: --redis URL is required (redis://HOST:PORT)');
    const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw usageError(
        `svd curate worker: --concurrency ${JSON.stringify(values.concurrency)}: expected an integer ≥ 1`,
      );
    const hold = Number(process.env.SVD_CURATE_WORKER_HOLD_MS ?? 0);
    const quiet = values.quiet === true;
    const log = (line: string) => console.error(`svd curate worker: ${line}`);
    const models = await clipModelsFrom(values);
    await runCurateWorker({
      redisUrl,
      concurrency,
      queue: values.queue as string | undefined,
      lockDurationMs: seconds('lock-duration', values['lock-duration'] as string | undefined),
      stalledIntervalMs: seconds('stalled-interval', values['stalled-interval'] as string | undefined),
      holdMs: hold > 0 ? hold : undefined,
      models,
      signal: stop.signal,
      forceSignal: force.signal,
      onEvent: (e: CurateWorkerEvent) => {
        if (e.type === 'error') log(`redis: ${e.message}`);
        else if (e.type === 'failed') log(`job failed ${e.job}: ${e.error}${e.willRetry ? ' (will retry)' : ''}`);
        else if (quiet) return;
        else if (e.type === 'ready') log(`ready: ${e.queue} on ${redisUrl}, concurrency ${e.concurrency}`);
        else if (e.type === 'started') log(`job started ${e.job}${e.attempt > 1 ? ` (try ${e.attempt})` : ''}`);
        else if (e.type === 'completed') log(`job done ${e.job} in ${e.seconds.toFixed(1)} s`);
        else if (e.type === 'released') log(`job released ${e.job}`);
        else if (e.type === 'stopping') log(`stopping (${e.active} running)`);
      },
    }).finally(() => (models ? releaseClipModels(models) : undefined));
    if (!quiet) log('stopped');
    return 0;
  } catch (e) {
    const known = e instanceof CliError || e instanceof CurateQueueError;
    const message = (e as Error)?.message ?? String(e);
    console.error(message.startsWith('svd ') ? message : `svd curate worker: ${known ? '' : 'failed: '}${message}`);
    return e instanceof CliError ? e.exitCode : 1;
  } finally {
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onInt);
  }
}

export async function curateCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'worker') return curateWorkerCommand(argv.slice(1));
  const controller = new AbortController();
  const onSigint = () => controller.abort(new CliError('svd curate: interrupted; finished work is in the store', 130));
  process.once('SIGINT', onSigint);
  let store: CurationStore | undefined;
  try {
    const sub = ['stats', 'filter', 'show', 'export'].includes(argv[0]) ? argv[0] : 'run';
    let values: Record<string, string | boolean | undefined>;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: sub === 'run' ? [...argv] : argv.slice(1),
        options: {
          db: { type: 'string' },
          'min-clip': { type: 'string' },
          'no-text': { type: 'boolean' },
          ...MODEL_OPTIONS,
          'max-text': { type: 'string' },
          label: { type: 'string' },
          parquet: { type: 'string' },
          redis: { type: 'string' },
          queue: { type: 'string' },
          png: { type: 'string' },
          'drop-bottom': { type: 'string' },
          max: { type: 'string' },
          min: { type: 'string' },
          out: { type: 'string' },
          json: { type: 'boolean' },
          quiet: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: sub === 'run',
        strict: true,
      }));
    } catch (e) {
      throw usageError(`svd curate: ${(e as Error).message.split('\n')[0]}`);
    }
    if (values.help) {
      console.log(CURATE_USAGE);
      return 0;
    }
    const db = values.db as string | undefined;
    if (!db) throw usageError('svd curate: --db FILE is required (the corpus store)');
    if (sub === 'run' && positionals.length === 0)
      throw usageError('svd curate: give at least one video file or folder');
    store = CurationStore.open(db);
    if (sub === 'run') {
      const minClip = values['min-clip'] === undefined ? undefined : Number(values['min-clip']);
      if (minClip !== undefined && !(minClip >= 0))
        throw usageError(`svd curate: --min-clip ${JSON.stringify(values['min-clip'])}: expected seconds ≥ 0`);
      const progress = createProgress({ quiet: values.quiet === true });
      const t0 = performance.now();
      const redisUrl = values.redis as string | undefined;
      if (values.queue !== undefined && !redisUrl) throw usageError('svd curate: --queue needs --redis URL');
      const onEvent = (e: CurateEvent | CurateDistributedEvent) => {
        if (e.type === 'source') {
          if (!redisUrl) progress.stage(`cuts ${e.index + 1}/${e.total}${e.skipped ? ' (done before)' : ''}`);
          else if (e.skipped) console.error(`svd curate: ${e.path}: done before`);
        } else if (e.type === 'queued') {
          console.error(
            `svd curate: queued ${e.sources} sources on ${redisUrl} (${e.cuts} to cut, ${e.clips} clips to score)`,
          );
          if (e.cuts > 0) progress.stage('cuts');
        } else if (e.type === 'cut') progress.step(e.done, e.total);
        else if (e.type === 'clip') {
          if (e.done === 1) progress.stage('motion');
          progress.step(e.done, e.total);
        } else if (e.type === 'rejected') console.error(`warning: rejected ${e.id}: ${e.reason}`);
        else if (e.type === 'failed') console.error(`warning: ${e.id}: ${e.reason} (left pending for the next run)`);
        else if (e.type === 'waiting') console.error(`svd curate: ${e.message}`);
      };
      const common = { inputs: positionals, store, minClipSeconds: minClip, signal: controller.signal, onEvent };
      const modelFlags = Object.keys(MODEL_OPTIONS).filter((k) => values[k] !== undefined);
      if (redisUrl && modelFlags.length > 0) {
        throw usageError(`svd curate: with --redis, --${modelFlags[0]} is an option of \`svd curate worker\``);
      }
      const models = redisUrl ? undefined : await clipModelsFrom(values);
      const r = redisUrl
        ? await curateDistributed({ ...common, redisUrl, queue: values.queue as string | undefined })
        : await curate({ ...common, models }).finally(() => (models ? releaseClipModels(models) : undefined));
      progress.done(
        `${db}: ${r.sources} sources, ${r.clips} clips scored, ${r.rejected} rejected in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      return 0;
    }
    if (sub === 'stats') {
      const names = store.scoreNames();
      const analytics = await CorpusAnalytics.fromStore(store);
      let table: Awaited<ReturnType<CorpusAnalytics['scoreStatistics']>>;
      try {
        table = await analytics.scoreStatistics();
      } finally {
        analytics.close();
      }
      if (values.png) {
        await mkdir(values.png as string, { recursive: true });
        for (const n of names) await writeHistogram(join(values.png as string, `${n}.png`), n, store.scoreValues(n));
      }
      if (values.json) console.log(JSON.stringify({ counts: store.counts(), scores: table }, null, 2));
      else {
        const c = store.counts();
        console.log(`${c.sources} sources; clips: ${c.scored} scored, ${c.rejected} rejected, ${c.pending} pending`);
        console.log('| score | clips | min | p10 | p25 | median | p75 | p90 | max | mean |');
        console.log('|---|---|---|---|---|---|---|---|---|---|');
        const f = (v: number | undefined) =>
          v === undefined || Number.isNaN(v) ? '–' : Number(v.toPrecision(4)).toString();
        for (const [n, s] of Object.entries(table)) {
          console.log(
            `| ${n} | ${s.count} | ${f(s.min)} | ${f(s.p10)} | ${f(s.p25)} | ${f(s.median)} | ${f(s.p75)} | ${f(s.p90)} | ${f(s.max)} | ${f(s.mean)} |`,
          );
        }
      }
      return 0;
    }
    if (sub === 'export') {
      const out = values.parquet as string | undefined;
      if (!out) throw usageError('svd curate export: --parquet FILE is required');
      const analytics = await CorpusAnalytics.fromStore(store);
      try {
        const r = await analytics.exportParquet(out);
        console.error(`svd curate export: ${r.rows} clips, ${r.columns.length} columns → ${out}`);
      } finally {
        analytics.close();
      }
      return 0;
    }
    if (sub === 'filter') {
      const out = values.out as string | undefined;
      if (!out) throw usageError('svd curate filter: --out manifest.jsonl is required');
      const spec = {
        dropBottom: pairs('drop-bottom', values['drop-bottom'] as string | undefined),
        max: {
          ...pairs('max', values.max as string | undefined),
          ...(values['max-text'] !== undefined ? pairs('max-text', `text_area=${values['max-text']}`) : {}),
        },
        min: pairs('min', values.min as string | undefined),
        labels: labelPairs(values.label as string | undefined),
      };
      for (const p of Object.values(spec.dropBottom)) {
        if (!(p >= 0 && p <= 100))
          throw usageError(`svd curate filter: --drop-bottom ${p}: expected a percent from 0 to 100`);
      }
      const known = new Set(store.scoreNames());
      for (const n of [...Object.keys(spec.dropBottom), ...Object.keys(spec.max), ...Object.keys(spec.min)]) {
        if (!known.has(n))
          throw usageError(`svd curate filter: no score "${n}" in ${db} (scores: ${[...known].join(', ') || 'none'})`);
      }
      const r = await filterCorpus(store, spec);
      await writeManifest(out, r.kept);
      console.error(`svd curate filter: kept ${r.kept.length} of ${r.kept.length + r.dropped.length} clips → ${out}`);
      for (const [n, t] of Object.entries(r.thresholds)) console.error(`  ${n}: dropped below ${t}`);
      return 0;
    }
    // show
    const clips = store.clips();
    const sources = store.sources();
    if (values.json) console.log(JSON.stringify({ sources, clips }, null, 2));
    else {
      for (const s of sources) {
        console.log(`${s.path}${s.rejected ? ` — rejected: ${s.rejected}` : ''}`);
        for (const c of clips.filter((x) => x.sourceId === s.id)) {
          const scores = Object.entries(c.scores)
            .map(([k, v]) => `${k} ${Number(v.toPrecision(3))}`)
            .join(', ');
          const labels = Object.entries(c.labels)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          console.log(
            `  frames ${c.startFrame}–${c.endFrame} (${c.startTime.toFixed(2)}–${c.endTime.toFixed(2)} s) ${c.status}${c.rejected ? `: ${c.rejected}` : ''}; ${scores}; ${labels}`,
          );
        }
      }
    }
    return 0;
  } catch (e) {
    const err = controller.signal.aborted ? controller.signal.reason : e;
    const code = err instanceof CliError ? err.exitCode : 1;
    const message = (err as Error)?.message ?? String(err);
    const known = err instanceof CliError || err instanceof CurationStoreError || err instanceof CurateQueueError;
    console.error(message.startsWith('svd ') ? message : `svd curate: ${known ? '' : 'failed: '}${message}`);
    return code;
  } finally {
    process.removeListener('SIGINT', onSigint);
    store?.close();
  }
}
