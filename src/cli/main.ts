/**
 * The `svd` command line. Commands grow with the project's issues; each is a small module under `src/cli/`.
 * Exit codes: 0 ok, 1 failure, 2 bad usage or missing prerequisites.
 */
import { readFileSync } from 'node:fs';
import { convertCommand } from './convert.ts';
import { infoCommand } from './info.ts';

const USAGE = `usage: svd <command> [options]

commands:
  info [--provider cpu|webgpu|cuda] [--json]   engine, providers and machine facts
  generate --image PATH [...]                  image-to-video (not available yet: needs the models and sampler work)
  convert IN OUT [--to diffusers|sgm] [--dtype float32|float16|bfloat16] [--config JSON]
                                               checkpoint layout conversion (sgm single file ⇄ diffusers folder)

options:
  --help, -h      this help
  --version, -v   the package version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
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
      console.error(
        'svd generate: image-to-video is not implemented yet in this version (the SVD models and sampler are in progress); no video was written',
      );
      return 2;
    default:
      console.error(`svd: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
