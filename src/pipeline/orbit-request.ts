/**
 * A multi-view orbit request (`svd orbit`, SV3D_u / SV3D_p): a generation request (./request.ts: every option of
 * image-to-video that applies) plus the camera — `elevation` (degrees: one value or one per view) and `azimuths`
 * (degrees, one per view) — and an optional folder for the views as numbered PNG frames. Values are checked here as
 * far as they can be without the model; the view count and whether the model takes a camera are checked against the
 * model by `resolveOrbit` when the job runs.
 */
import { AZIMUTH_RANGE_DEG, ELEVATION_RANGE_DEG, type OrbitAngles, orbitAngles } from '../conditioning/orbit.ts';
import { isMultiViewModel, type SvdModel } from '../models/description.ts';
import {
  type GenerateRequest,
  GenerateRequestError,
  type GenerateRequestInput,
  type OrbitRequest,
  parseGenerateRequest,
  type RequestIssue,
} from './request.ts';

/** The preset an orbit uses when neither --preset nor --config is given. */
export const DEFAULT_ORBIT_PRESET = 'sv3d-p';

/** Numbers from a number, a decimal string, a comma-separated list or an array; undefined if any is not a number. */
function numbers(v: unknown): number[] | undefined {
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v];
  const out: number[] = [];
  for (const item of items) {
    const n =
      typeof item === 'number' ? item : typeof item === 'string' && item.trim() !== '' ? Number(item) : Number.NaN;
    if (!Number.isFinite(n)) return undefined;
    out.push(n);
  }
  return out.length > 0 ? out : undefined;
}

function readOrbit(input: GenerateRequestInput, issues: RequestIssue[]): OrbitRequest {
  const orbit: { elevationDeg?: number | number[]; azimuthsDeg?: number[]; outFrames?: string } = {};
  if (input.elevation !== undefined && input.elevation !== null) {
    const [lo, hi] = ELEVATION_RANGE_DEG;
    const e = numbers(input.elevation);
    if (!e || e.some((x) => x < lo || x > hi)) {
      issues.push({
        field: 'elevation',
        value: input.elevation,
        expected: `degrees from ${lo} to ${hi}: one value, or one per view (comma-separated)`,
      });
    } else orbit.elevationDeg = e.length === 1 ? e[0] : e;
  }
  if (input.azimuths !== undefined && input.azimuths !== null) {
    const [lo, hi] = AZIMUTH_RANGE_DEG;
    const a = numbers(input.azimuths);
    if (!a || a.some((x) => x < lo || x > hi)) {
      issues.push({
        field: 'azimuths',
        value: input.azimuths,
        expected: `degrees from ${lo} to ${hi}, one per view, comma-separated (the last view is the input view)`,
      });
    } else orbit.azimuthsDeg = a;
  }
  if (input.outFrames !== undefined && input.outFrames !== null) {
    if (typeof input.outFrames !== 'string' || input.outFrames.trim() === '') {
      issues.push({ field: 'outFrames', value: input.outFrames, expected: 'a folder for the PNG frames' });
    } else orbit.outFrames = input.outFrames;
  }
  return orbit;
}

/** Validates an orbit request; throws a GenerateRequestError with every issue found. */
export function parseOrbitRequest(
  input: GenerateRequestInput,
  options: { noModelHint?: string } = {},
): GenerateRequest & { orbit: OrbitRequest } {
  const { elevation, azimuths, outFrames, ...rest } = input;
  const issues: RequestIssue[] = [];
  const orbit = readOrbit({ elevation, azimuths, outFrames }, issues);
  // SV3D conditions on cond_aug (and the camera) only: an fps or motion bucket would be ignored, so it is refused
  for (const field of ['fps', 'fpsId', 'motionBucket'] as const)
    if (rest[field] !== undefined && rest[field] !== null)
      issues.push({ field, value: rest[field], expected: 'no value: SV3D models read no fps_id or motion_bucket_id' });
  const preset =
    rest.config === undefined || rest.config === null ? (rest.preset ?? DEFAULT_ORBIT_PRESET) : rest.preset;
  let request: GenerateRequest | undefined;
  try {
    request = parseGenerateRequest({ ...rest, preset }, { ...options, shipped: null });
  } catch (e) {
    if (!(e instanceof GenerateRequestError)) throw e;
    issues.push(...e.issues);
  }
  if (issues.length > 0 || !request) throw new GenerateRequestError(issues);
  return { ...request, orbit };
}

/**
 * The orbit of `views` views for `model`: SV3D_p's camera from the request (defaults: elevation 10°, evenly spaced
 * azimuths); SV3D_u takes no camera, so an elevation or azimuths given for it is an issue. A model that is not
 * multi-view (it reads fps_id / motion_bucket_id) is an issue too.
 */
export function resolveOrbit(model: SvdModel, orbit: OrbitRequest, views: number): OrbitAngles {
  const issue = (field: RequestIssue['field'], value: unknown, expected: string) =>
    new GenerateRequestError([{ field, value, expected }]);
  if (!isMultiViewModel(model)) {
    throw issue(
      'preset',
      model.name,
      `a multi-view model (sv3d-u, sv3d-p, or a config of one): ${model.name} conditions on ${model.embedders
        .filter((e) => e.inputKey === 'fps_id' || e.inputKey === 'motion_bucket_id')
        .map((e) => e.inputKey)
        .join(' and ')} (an image-to-video model: use svd generate)`,
    );
  }
  const keys = new Set(model.embedders.map((e) => e.inputKey));
  const camera = keys.has('polars_rad') || keys.has('azimuths_rad');
  if (!camera) {
    if (orbit.elevationDeg !== undefined) {
      throw issue('elevation', String(orbit.elevationDeg), `no value: ${model.name} has no camera input (SV3D_u)`);
    }
    if (orbit.azimuthsDeg !== undefined) {
      throw issue('azimuths', orbit.azimuthsDeg.join(','), `no value: ${model.name} has no camera input (SV3D_u)`);
    }
  }
  try {
    return orbitAngles(views, orbit.elevationDeg, orbit.azimuthsDeg);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const field = /azimuth/.test(e.message) ? 'azimuths' : 'elevation';
    const given = field === 'azimuths' ? orbit.azimuthsDeg : orbit.elevationDeg;
    const value = typeof given === 'number' ? given : given?.join(',');
    throw issue(field, value, `${e.message.replace(/^give /, '')} for ${views} views`);
  }
}
