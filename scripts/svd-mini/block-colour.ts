/** Mean colour of the 8×8 pixel block under one latent pixel (svd-mini's autoencoder downsamples 8×). */

/** [R, G, B] mean of block (i, j) of planes [3, H, W]. */
export function blockMeanColour(planes: ArrayLike<number>, H: number, W: number, i: number, j: number): number[] {
  return [0, 1, 2].map((c) => {
    let s = 0;
    for (let dy = 0; dy < 8; dy++)
      for (let dx = 0; dx < 8; dx++) s += planes[c * H * W + (8 * i + dy) * W + 8 * j + dx];
    return s / 64;
  });
}

/** Latent pixel (i, j) of a latent [z, H/8, W/8], each channel times `scale`. */
export function latentPixel(
  latent: ArrayLike<number>,
  z: number,
  H: number,
  W: number,
  i: number,
  j: number,
  scale = 1,
) {
  const plane = (H / 8) * (W / 8);
  return Array.from({ length: z }, (_, c) => scale * latent[c * plane + i * (W / 8) + j]);
}
