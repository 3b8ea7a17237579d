/**
 * A diffusers SVD folder on disk: whether a path is one (`unet/`, `vae/`, `image_encoder/` sub-folders) and its three
 * `config.json` objects, read synchronously (a few small files) so that choosing a model stays synchronous. Errors
 * are one-line CheckpointFormatErrors ('bad-config') naming the file.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointFormatError } from './checkpoint-errors.ts';
import type { DiffusersConfigs, JsonObject } from './layouts/diffusers-config-json.ts';
import { DIFFUSERS_COMPONENTS, type DiffusersComponent } from './layouts/diffusers-layout.ts';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The sub-folders of a diffusers SVD folder that `path` lacks (all three when it is no folder). */
export function missingDiffusersParts(path: string): string[] {
  return DIFFUSERS_COMPONENTS.filter((c) => !isDirectory(join(path, c))).map((c) => `${c}/`);
}

/** Whether `path` is a folder with `unet/`, `vae/` and `image_encoder/`. */
export function isDiffusersFolder(path: string): boolean {
  return isDirectory(path) && missingDiffusersParts(path).length === 0;
}

/** The `config.json` of one sub-folder, as a JSON object. */
export function readDiffusersConfig(folder: string, component: DiffusersComponent): JsonObject {
  const path = join(folder, component, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new CheckpointFormatError(path, 'bad-config', 'missing or unreadable (every diffusers sub-folder needs one)');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CheckpointFormatError(path, 'bad-config', `not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointFormatError(path, 'bad-config', 'not a JSON object');
  }
  return value as JsonObject;
}

/** The three configs of a diffusers SVD folder. */
export function readDiffusersConfigs(folder: string): DiffusersConfigs {
  return {
    unet: readDiffusersConfig(folder, 'unet'),
    vae: readDiffusersConfig(folder, 'vae'),
    image_encoder: readDiffusersConfig(folder, 'image_encoder'),
  };
}
