/**
 * The `svd` command line. Commands grow with the project's issues; each is a small module under `src/cli/`.
 * Exit codes, the same for every command: 0 ok; 2 the command line is wrong (unknown command or option, a missing,
 * malformed or out-of-range value, contradictory options, a config whose content is not valid); 1 a well-formed
 * command failed (an input file missing or unreadable, a checkpoint that does not fit, a failed write); 130
 * interrupted. test/cli/exit-codes.test.ts holds every command to it.
 */
import { readFileSync } from 'node:fs';
import { convertCommand } from './convert.ts';
import { curateCommand } from './curate.ts';
import { evalCommand } from './eval.ts';
import { generateCommand } from './generate.ts';
import { infoCommand } from './info.ts';
import { loraCommand } from './lora.ts';
import { orbitCommand } from './orbit.ts';
import { serveCommand } from './serve.ts';
import { trainCommand } from './train.ts';
import { workerCommand } from './worker.ts';

const USAGE = `usage: svd <command> [options]

commands:
  info [--provider cpu|webgpu|cuda] [--json]   engine, providers and machine facts
  generate --image PATH --checkpoint PATH [...]  image-to-video (svd generate --help for every option)
  orbit --image PATH --checkpoint PATH [...]     multi-view orbit of an object, SV3D (svd orbit --help)
  convert IN OUT [--to diffusers|sgm] [--dtype float32|float16|bfloat16] [--config JSON]
                                               checkpoint layout conversion (sgm single file ⇄ diffusers folder)
  train --stage autoencoder|image|video|finetune|i2v|lora [--config FILE] [...] | train --resume RUN
                                               the paper's training stages (svd train --help)
  curate INPUT... --db FILE | curate stats|filter|show --db FILE
                                               video data curation: cuts, motion, store, manifest
  eval psnr|ssim|quality REFERENCE CANDIDATE [--json]
                                               per-frame video quality against a reference
  lora merge BASE LORA[:SCALE] … OUT [--config JSON | --preset NAME]
                                               merge LoRAs into a checkpoint (svd generate --lora applies them)
  serve --checkpoint PATH [--config JSON | --preset NAME] [--port N] [--data DIR] [--api-key KEY] [--redis URL]
                                               HTTP API, job queue and web page (svd serve --help)
  worker --redis URL --checkpoint PATH [--config JSON | --preset NAME]
                                               run the jobs of svd serve --redis on this machine

options:
  --help, -h      this help
  --version, -v   the package version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  // `svd … | head`: a closed pipe ends the output quietly, not with an EPIPE stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    console.log(version());
    return 0;
  }
  switch (command) {
    case 'info':
      return infoCommand(rest);
    case 'convert':
      return convertCommand(rest);
    case 'generate':
      return generateCommand(rest);
    case 'orbit':
      return orbitCommand(rest);
    case 'train':
      return trainCommand(rest);
    case 'curate':
      return curateCommand(rest);
    case 'lora':
      return loraCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case 'eval':
      return evalCommand(rest);
    default:
      console.error(`svd: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
