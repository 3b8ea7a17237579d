/**
 * The camera of a multi-view (SV3D) orbit, as `scripts/sampling/simple_video_sample.py` (Stability-AI/generative-models,
 * version `sv3d_p`, SV3D release b4b7b64 / fbdc58c) computes it for T views:
 *   - elevation: one value in degrees repeated for every view, or T values (a dynamic orbit);
 *     `polars_rad = deg2rad(90 − elevation)`;
 *   - azimuths in degrees: given (T values), or `linspace(0, 360, T + 1)[1:] % 360` (evenly spaced, the last view at 0);
 *     the model gets `azimuths_rad = deg2rad((a − a_last) % 360)`: relative to the **last** view, which is the input
 *     view (after decoding the script puts the input image back as the last frame). The script's
 *     `azimuths_rad[:-1].sort()` sorts a temporary copy and has no effect, so the order given is kept.
 * The values are float64 (numpy) in the reference batch; its `ConcatTimestepEmbedderND` casts them to float32, so the
 * batch here holds their float32 rounding. SV3D_u has no camera input: only `cond_aug` reaches its `vector`.
 */
import { HostTensor } from '../tensor/host-tensor.ts';

/** Elevations accepted, in degrees (the reference README: [−90, 90]). */
export const ELEVATION_RANGE_DEG: readonly [number, number] = [-90, 90];
/** Azimuths accepted, in degrees (the reference README: [0, 360], sorted from 0 to 360). */
export const AZIMUTH_RANGE_DEG: readonly [number, number] = [0, 360];
/** The reference script's default elevation (`elevations_deg = 10.0`). */
export const DEFAULT_ELEVATION_DEG = 10;

/** The batch keys of the camera embedders (sv3d_p.yaml: `ConcatTimestepEmbedderND(512)` each). */
export const POLARS_KEY = 'polars_rad';
export const AZIMUTHS_KEY = 'azimuths_rad';

export interface OrbitAngles {
  /** Per view, degrees. */
  readonly elevationsDeg: readonly number[];
  readonly azimuthsDeg: readonly number[];
  /** Per view, radians, float64 as the reference batch holds them. */
  readonly polarsRad: readonly number[];
  readonly azimuthsRad: readonly number[];
}

/** numpy's `deg2rad`: x · (π / 180). */
export function deg2rad(x: number): number {
  return x * (Math.PI / 180);
}

/** Python's float `%`: the result takes the sign of the divisor (CPython `float_rem`). */
export function pyMod(x: number, m: number): number {
  let r = x % m;
  if (r !== 0) {
    if (r < 0 !== m < 0) r += m;
  } else r = m < 0 ? -0 : 0;
  return r;
}

/** `np.linspace(0, 360, T + 1)[1:] % 360`: T evenly spaced azimuths, the last at 0 (the input view). */
export function defaultAzimuthsDeg(views: number): number[] {
  const step = 360 / views;
  const out: number[] = [];
  for (let i = 1; i <= views; i++) out.push(i === views ? 0 : pyMod(i * step, 360));
  return out;
}

/**
 * The orbit of `views` views: `elevationDeg` one value or one per view (default 10), `azimuthsDeg` one per view
 * (default evenly spaced). Throws a RangeError naming the problem for a wrong count or a value out of range.
 */
export function orbitAngles(
  views: number,
  elevationDeg: number | readonly number[] = DEFAULT_ELEVATION_DEG,
  azimuthsDeg?: readonly number[],
): OrbitAngles {
  const elevations = typeof elevationDeg === 'number' ? new Array<number>(views).fill(elevationDeg) : [...elevationDeg];
  if (elevations.length !== views) {
    throw new RangeError(`give 1 elevation or ${views} (one per view), not ${elevations.length}`);
  }
  const [eMin, eMax] = ELEVATION_RANGE_DEG;
  const badE = elevations.find((e) => !Number.isFinite(e) || e < eMin || e > eMax);
  if (badE !== undefined) throw new RangeError(`elevation ${badE}° is outside ${eMin}° to ${eMax}°`);
  const azimuths = azimuthsDeg ? [...azimuthsDeg] : defaultAzimuthsDeg(views);
  if (azimuths.length !== views) {
    throw new RangeError(`give ${views} azimuths (one per view, the last is the input view), not ${azimuths.length}`);
  }
  const [aMin, aMax] = AZIMUTH_RANGE_DEG;
  const badA = azimuths.find((a) => !Number.isFinite(a) || a < aMin || a > aMax);
  if (badA !== undefined) throw new RangeError(`azimuth ${badA}° is outside ${aMin}° to ${aMax}°`);
  const last = azimuths[views - 1];
  return {
    elevationsDeg: elevations,
    azimuthsDeg: azimuths,
    polarsRad: elevations.map((e) => deg2rad(90 - e)),
    azimuthsRad: azimuths.map((a) => deg2rad(pyMod(a - last, 360))),
  };
}

/** The batch entries of an orbit: `polars_rad`, `azimuths_rad` float32 [T] (the embedder's `.float()` cast). */
export function orbitBatchEntries(orbit: OrbitAngles): Record<string, HostTensor> {
  return {
    [POLARS_KEY]: HostTensor.float32([orbit.polarsRad.length], orbit.polarsRad),
    [AZIMUTHS_KEY]: HostTensor.float32([orbit.azimuthsRad.length], orbit.azimuthsRad),
  };
}
