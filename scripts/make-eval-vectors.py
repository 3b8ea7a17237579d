"""Reference vectors for src/eval (PSNR, SSIM, Fréchet distance), computed by independent implementations:
scikit-image's `peak_signal_noise_ratio` and `structural_similarity` (Debian python3-skimage 0.19.3) and the usual
FID/FVD formula with `scipy.linalg.sqrtm` (Debian python3-scipy). Inputs are made here from a fixed seed and stored
with the results, so the TypeScript test needs neither Python nor these packages.
Usage: /usr/bin/python3 scripts/make-eval-vectors.py > test/fixtures/eval/vectors.json
"""
import json

import numpy as np
from scipy import linalg
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

rng = np.random.default_rng(2026)


def image_pair(h, w, noise):
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([
        0.5 + 0.4 * np.sin(xx / 5.0) * np.cos(yy / 7.0),
        0.5 + 0.3 * np.cos((xx + yy) / 9.0),
        (xx * yy % 17) / 17.0,
    ], axis=-1)
    other = np.clip(base + noise * rng.standard_normal(base.shape), 0, 1)
    return np.round(base * 255).astype(np.uint8), np.round(other * 255).astype(np.uint8)


images = []
for h, w, noise in [(24, 32, 0.02), (40, 36, 0.1), (17, 23, 0.3)]:
    a, b = image_pair(h, w, noise)
    af, bf = a / 255.0, b / 255.0
    images.append({
        "height": h, "width": w,
        "a": a.reshape(-1).tolist(), "b": b.reshape(-1).tolist(),
        "psnr": peak_signal_noise_ratio(af, bf, data_range=1.0),
        "ssim": structural_similarity(af, bf, data_range=1.0, channel_axis=-1, gaussian_weights=True,
                                      sigma=1.5, use_sample_covariance=False),
    })


def fid(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


frechet = []
for d, n, shift in [(8, 40, 0.5), (16, 60, 0.0)]:
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d))) + shift
    frechet.append({"dim": d, "x": x.reshape(-1).tolist(), "y": y.reshape(-1).tolist(), "distance": fid(x, y)})

print(json.dumps({"made_by": "scripts/make-eval-vectors.py (scikit-image 0.19.3, scipy)", "images": images,
                  "frechet": frechet}))
