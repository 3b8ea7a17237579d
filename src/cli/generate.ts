/**
 * `svd generate`: argv → a generation request → the pipeline's job (src/pipeline/generate-job.ts), with its events
 * rendered as a progress line. Bad input is one line with a non-zero exit code (2 for bad usage or values, 1 for
 * unreadable inputs) and no output file. Ctrl-C stops the run at once, even inside a long engine call (the job's
 * engine is disposed, which rejects the call in flight), removes the temporary outputs and ends the process by SIGINT
 * (status 130; ./interrupt.ts says why not `exit(130)`).
 */

import { CheckpointMismatchError } from '../models/checkpoint-mismatch.ts';
import { runGenerateJob } from '../pipeline/generate-job.ts';
import {
  type GenerateRequest,
  GenerateRequestError,
  type GenerateRequestInput,
  parseGenerateRequest,
} from '../pipeline/request.ts';
import { CliError } from './errors.ts';
import { describeIssueForCli, GENERATE_USAGE, parseGenerateArgs } from './generate-args.ts';
import { endInterrupted, listenForInterrupt } from './interrupt.ts';
import { createProgress } from './progress.ts';

const NO_MODEL =
  `required: svd-mini's weights (models/svd-mini/svd-mini.safetensors) are not in this checkout, so pass a
checkpoint, e.g. the released SVD-XT weights (svd_xt.safetensors from Stability AI's stable-video-diffusion-img2vid-xt
release, or its diffusers folder): svd generate --image in.png --checkpoint svd_xt.safetensors`.replace(/\n/g, ' ');

export async function generateCommand(argv: readonly string[]): Promise<number> {
  return runJobCommand(argv, {
    command: 'generate',
    usage: GENERATE_USAGE,
    parse: (input) => parseGenerateRequest(input, { noModelHint: NO_MODEL }),
  });
}

/** A command that runs a generation job (`svd generate`, `svd orbit`): argv → request → job, progress, summary. */
export async function runJobCommand(
  argv: readonly string[],
  spec: { command: string; usage: string; parse: (input: GenerateRequestInput) => GenerateRequest },
): Promise<number> {
  const { command } = spec;
  /** Outputs complete before a Ctrl-C (a batch keeps its finished videos). */
  const finished: string[] = [];
  const interrupt = listenForInterrupt({
    reason: () =>
      new CliError(
        `svd ${command}: interrupted; ${finished.length === 0 ? 'no output was written' : `kept the finished ${finished.join(', ')}`}`,
        130,
      ),
    forcedMessage: `svd ${command}: interrupted`,
  });
  const { signal } = interrupt;
  let verbose = false;
  try {
    const args = parseGenerateArgs(argv, command);
    verbose = args?.verbose ?? false;
    if (!args) {
      console.log(spec.usage);
      return 0;
    }
    const request = spec.parse(args.input);
    const progress = createProgress({ quiet: args.quiet });
    const count = request.images.length * request.seeds.length;
    let currentVideo = -1;
    const result = await runGenerateJob(request, {
      signal,
      onEvent: (event) => {
        switch (event.type) {
          case 'stage':
            progress.stage(event.stage);
            break;
          case 'step':
            if (count > 1 && event.video !== currentVideo) {
              currentVideo = event.video;
              progress.stage(`sampling video ${event.video + 1}/${count}`);
            }
            progress.step(event.i, event.n);
            break;
          case 'notice':
            // Warnings go to stderr even with --quiet: they describe the result, not its progress.
            if (event.message.startsWith('ignoring ')) progress.log(event.message);
            else console.error(`warning: ${event.message}`);
            break;
          case 'video':
            finished.push(event.video.output);
            break;
          case 'done':
            break;
        }
      },
    });
    const summary = result.videos
      .map((v) => `${v.output} (${v.frames} frames, ${v.width}×${v.height}, ${v.fps} fps, seed ${v.seed})`)
      .join(', ');
    progress.done(`wrote ${summary}`);
    if (args.json) console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (e) {
    const err = signal.aborted ? signal.reason : e;
    let code = err instanceof CliError ? err.exitCode : 1;
    let message = (err as Error)?.message ?? String(err);
    if (err instanceof GenerateRequestError) {
      code = 2;
      message = err.issues.map(describeIssueForCli).join('; ');
    }
    // A checkpoint that does not fit: what it looks like in one line; every disagreeing key only with --verbose.
    if (err instanceof CheckpointMismatchError && !verbose) message += ' (--verbose lists every key)';
    console.error(message.startsWith('svd ') ? message : `svd ${command}: ${message}`);
    if (err instanceof CheckpointMismatchError && verbose) console.error(err.details.join('\n'));
    if (signal.aborted) endInterrupted();
    return code;
  } finally {
    interrupt.dispose();
  }
}
