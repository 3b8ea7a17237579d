/**
 * The parity bounds the README quotes, asserted by the golden tests (max|mine − ref| / max|ref| per tensor). The
 * golden README's ceilings are 1e-4 for whole networks and 1e-5 for single ops and conditioning; these are tighter,
 * a few times what was measured, so that a regression shows long before the ceiling.
 */
export const PARITY = {
  /** unet-tiny output and every intermediate (measured ≤ 1.5e-6). */
  unet: 5e-6,
  /** vae-tiny encoder, decoder (whole and chunked) and intermediates (measured ≤ 1.6e-6). */
  vae: 5e-6,
  /** CLIP preprocessing (kornia resize + normalise) on the op goldens (measured ≤ 5.1e-7). */
  clipPreprocess: 2e-6,
  /** CLIP image tower → crossattn (measured ≤ 2.9e-7). */
  clipTower: 2e-6,
  /** Conditioning c / uc from the input PNG. */
  conditioning: 1e-5,
  /** pipeline-tiny: every sampler step, the latents and the decoded frames, through the library and the CLI. */
  pipeline: 2e-5,
} as const;
