/**
 * A checkpoint that does not fit the model, said the way a user can act on: which model it was checked against, how
 * many keys disagree, what the checkpoint looks like (./checkpoint-identify.ts) and what to pass instead, in the
 * commands' option names (`--preset`, `--config`, `--lora`, `svd orbit`). The full key lists are kept apart
 * (`details`) for `--verbose`.
 *
 * ```ts
 * // svd_xt.safetensors: does not fit the --config model (2440 keys missing, 1073 unexpected): this looks like
 * // svd-xt, svd-xt-1.1 or svd (one network; 25 frames for the XT models, 14 for svd): pass --preset svd-xt
 * // instead of --config
 * ```
 */
import { formatShape, type Shape } from '../tensor/shape.ts';
import { CheckpointError } from '../weights/checkpoint-check.ts';
import { type CheckpointIdentity, FAMILY_WORDS, identifyCheckpoint } from './checkpoint-identify.ts';
import { isMultiViewModel, type SvdModel } from './description.ts';

/** How the model the checkpoint was checked against was chosen. */
export type ModelOrigin =
  | { readonly kind: 'preset'; readonly name: string }
  | { readonly kind: 'config'; readonly config: string }
  /** A diffusers folder's own `config.json` files. */
  | { readonly kind: 'diffusers-configs' };

/** At most this many disagreeing keys are named in the one-line message; more are only counted. */
const NAMED = 3;

/** A CheckpointError with a short message that says what the checkpoint looks like and what to pass. */
export class CheckpointMismatchError extends CheckpointError {
  /** What the checkpoint looks like. */
  readonly identity: CheckpointIdentity;
  /** Every missing, unexpected and wrong-shape key, one per line, grouped under a heading line each. */
  readonly details: readonly string[];

  constructor(cause: CheckpointError, message: string, identity: CheckpointIdentity, details: readonly string[]) {
    super(cause.missing, cause.unexpected, cause.wrongShape);
    this.name = 'CheckpointMismatchError';
    this.message = message;
    this.identity = identity;
    this.details = details;
  }
}

/** Presets that share one network, in the order they are suggested, with what tells them apart. */
const SHARED_NETWORKS: readonly { readonly names: readonly string[]; readonly note: string }[] = [
  { names: ['svd-xt', 'svd-xt-1.1', 'svd'], note: 'one network; 25 frames for the XT models, 14 for svd' },
  { names: ['svd-xt-image-decoder', 'svd-image-decoder'], note: 'one network; 25 or 14 frames' },
];

/**
 * The mismatch `err` (from checking `path`'s `entries` against `model`, chosen as `origin`) as a
 * CheckpointMismatchError.
 */
export function explainMismatch(
  err: CheckpointError,
  path: string,
  entries: ReadonlyMap<string, { readonly shape: Shape }>,
  model: SvdModel,
  origin: ModelOrigin,
): CheckpointMismatchError {
  const identity = identifyCheckpoint(entries);
  const against =
    origin.kind === 'preset'
      ? `the preset ${origin.name}`
      : origin.kind === 'config'
        ? 'the --config model'
        : 'the model its own diffusers config.json files describe';
  const message = `${path}: does not fit ${against} (${counts(err, entries)}): ${advice(identity, model, origin)}`;
  return new CheckpointMismatchError(err, message, identity, details(err, entries));
}

/** The disagreements counted, or named when there are only a few. */
function counts(err: CheckpointError, entries: ReadonlyMap<string, { readonly shape: Shape }>): string {
  const { missing, unexpected, wrongShape } = err;
  if (missing.length + unexpected.length + wrongShape.length <= NAMED) {
    return [
      ...missing.map((k) => `${k} missing`),
      ...unexpected.map((k) => `${k} ${formatShape(entries.get(k)?.shape ?? [])} unexpected`),
      ...wrongShape.map((w) => `${w.key} is ${formatShape(w.actual)}, the model's ${formatShape(w.expected)}`),
    ].join('; ');
  }
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`${missing.length} keys missing`);
  if (unexpected.length > 0) parts.push(`${unexpected.length} unexpected`);
  if (wrongShape.length > 0) parts.push(`${wrongShape.length} of another shape`);
  return parts.join(', ');
}

/** What to pass instead, for what the checkpoint looks like and how the model was chosen. */
function advice(identity: CheckpointIdentity, model: SvdModel, origin: ModelOrigin): string {
  const command = (multiView: boolean) =>
    multiView === isMultiViewModel(model) ? '' : multiView ? ' with svd orbit' : ' with svd generate';
  switch (identity.kind) {
    case 'lora':
      return `this is a LoRA file (${identity.modules} modules), not a model: pass it with --lora, and the model it adapts with --checkpoint`;
    case 'diffusers-part':
      return `this is the ${identity.part}/ weights of a diffusers folder: pass the folder itself (with unet/, vae/ and image_encoder/) as --checkpoint`;
    case 'not-svd':
      return 'this is not an SVD checkpoint: it has no UNet weights (model.diffusion_model.*)';
    case 'preset': {
      const shared = SHARED_NETWORKS.find((s) => s.names.every((n) => identity.presets.includes(n)));
      const names = shared ? shared.names : identity.presets;
      const looks = shared ? `${list(names)} (${shared.note})` : list(names);
      const instead = origin.kind === 'preset' ? '' : origin.kind === 'config' ? ' instead of --config' : '';
      return `this looks like ${looks}: pass --preset ${names[0]}${instead}${command(identity.multiView)}`;
    }
    case 'custom': {
      const family = FAMILY_WORDS[identity.family];
      const where = command(identity.family === 'multi-view');
      if (origin.kind === 'diffusers-configs') {
        return `its weights look like ${article(family)} ${family} of another size than its config.json files describe: the folder is inconsistent (convert it again)`;
      }
      if (origin.kind === 'config') {
        return where
          ? `this looks like ${article(family)} ${family}, not the kind of model the config describes: use it${where} and the config it was made with (--config)`
          : `this looks like ${article(family)} ${family} of another size than the config describes: pass the config it was made with (--config)`;
      }
      return `this looks like a custom-size ${family}: pass its model config with --config${where}`;
    }
  }
}

/** "a" or "an" before `words`. */
function article(words: string): string {
  return /^[aeiou]/i.test(words) ? 'an' : 'a';
}

function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** Every disagreeing key, one per line under a heading per kind. */
function details(err: CheckpointError, entries: ReadonlyMap<string, { readonly shape: Shape }>): string[] {
  const lines: string[] = [];
  const section = (heading: string, items: readonly string[]) => {
    if (items.length === 0) return;
    lines.push(`${heading} (${items.length}):`, ...items.map((i) => `  ${i}`));
  };
  section('missing from the checkpoint', err.missing);
  section(
    'unexpected in the checkpoint',
    err.unexpected.map((k) => `${k} ${formatShape(entries.get(k)?.shape ?? [])}`),
  );
  section(
    'of another shape',
    err.wrongShape.map((w) => `${w.key}: checkpoint ${formatShape(w.actual)}, model ${formatShape(w.expected)}`),
  );
  return lines;
}
