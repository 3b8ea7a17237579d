/**
 * `svd orbit`: a multi-view orbit of one object (SV3D_u / SV3D_p) — `svd generate`'s options and job
 * (src/pipeline/generate-job.ts) with the camera (`--elevation`, `--azimuths`, src/pipeline/orbit-request.ts), the
 * SV3D input preparation (src/video/object-image.ts) and the input image as the last view, as the reference's
 * `scripts/sampling/simple_video_sample.py` (versions sv3d_u / sv3d_p) does.
 */
import { parseOrbitRequest } from '../pipeline/orbit-request.ts';
import { runJobCommand } from './generate.ts';

export const ORBIT_USAGE = `usage: svd orbit --image object.png --checkpoint sv3d_p.safetensors [options]

A turntable of the object in the image: 21 views at 576×576 around it (SV3D), the last view being the input image.

model:
  --checkpoint PATH       sv3d_p.safetensors or sv3d_u.safetensors (Stability AI's SV3D release)
  --preset sv3d-p|sv3d-u  default sv3d-p
  --config JSON           a multi-view model config in the reference structure ({ engine_config, clip_arch })
camera (sv3d-p only; sv3d-u has no camera input):
  --elevation DEG[,DEG…]  elevation in degrees, −90 to 90: one value for every view (default 10), or one per view
  --azimuths DEG,DEG,…    one azimuth per view in degrees, 0 to 360, the last being the input view (default evenly
                          spaced: 360/N, 2·360/N, …, 0); only the azimuths relative to the last view reach the model
input image:
  an image with a transparent background: the object is centred on a white square and resized to 576×576 (as the
  reference script does); an opaque image is used as it is (cover-resized), with a warning — the reference removes
  the background with rembg, which svd-ts does not have. --size native keeps the image as it is (alpha on white).
sampling (defaults: the model's — 21 views, 50 steps, triangle guidance 1 → 2.5, cond_aug 1e-5):
  --frames N  --steps N  --sampler euler|heun|dpmpp-2m  --guider triangle|linear|vanilla|identity
  --min-cfg X  --max-cfg X  --cond-aug X  --size WxH|native  --decode-chunk N  --split-cfg
  --s-churn X  --s-tmin X  --s-tmax X  --s-noise X  --seed N|N,N,…|random  --num-videos N
  --noise FILE            safetensors with cond_noise [1,3,H,W] and latent_noise [N,4,H/8,W/8]
output:
  --out PATH              the orbit as .mp4 | .webm | .gif | .webp, or a folder of PNG frames ending in / (default:
                          numbered in outputs/, 000000.mp4, …), with its sidecar (.json: the camera of every view,
                          parameters, model, timings)
  --out-frames DIR        also the views as numbered PNG frames DIR/frame_0000.png … (for svd eval quality)
  --overwrite             replace existing outputs (otherwise refused before any work)
  --fps N                 video frame rate (default 7)
  --save-latents FILE  --save-intermediates FILE
engine:
  --provider cpu|webgpu|cuda  --threads N  --json  --quiet  --verbose (a checkpoint that does not fit: every key)
aliases: the reference script's --elevations-deg, --azimuths-deg, --num-frames, --num-steps, --version, --decoding-t`;

export async function orbitCommand(argv: readonly string[]): Promise<number> {
  return runJobCommand(argv, {
    command: 'orbit',
    usage: ORBIT_USAGE,
    parse: (input) =>
      parseOrbitRequest(input, {
        noModelHint:
          'required: the SV3D weights (sv3d_p.safetensors or sv3d_u.safetensors from stabilityai/sv3d), e.g. svd orbit --image object.png --checkpoint sv3d_p.safetensors',
      }),
  });
}
