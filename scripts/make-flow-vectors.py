#!/usr/bin/env python3
"""Reference vectors for the Farneback optical flow in src/curation/motion/ (test/curation/motion/vectors.test.ts).

What it writes (committed under test/fixtures/curation/motion/, about 0.5 MB):

- ``frames/*.png``: 8-bit gray frames (lossless PNG), the inputs of the flows:
  * ``photo256``: the repository's 64x64 test photo (test/fixtures/golden/pipeline-tiny/input.png) upscaled x4 with
    ``cv2.resize(INTER_CUBIC)`` to 256x256 (the smallest square on which levels=3 keeps all 3 levels), converted
    with ``cv2.cvtColor(COLOR_RGB2GRAY)``; ``photo256-*`` are the same RGB image warped by ``cv2.warpAffine``
    (``INTER_CUBIC``, ``BORDER_REFLECT_101``) by a known sub-pixel shift, a larger shift, or a zoom about the
    centre, then converted to gray the same way;
  * ``testsrc2-a``/``-b``: frames 0 and 2 of ffmpeg's ``testsrc2`` (320x256, 8 fps; its moving parts give a
    non-rigid flow);
  * ``photo64-*``: the 64x64 photo itself and a sub-pixel shift of it (only 1 pyramid level fits);
  * ``odd-*``: a 203x141 crop of the x4 photo and a sub-pixel shift (pyramid sizes that are not exact halves);
  * ``stripes-*``: 96x96 horizontal sine stripes (period 31.4 px) and the same moved down by 1 px: one-dimensional
    texture, on which OpenCV's closed-form 2x2 solve gives (almost) no flow at all.
- ``vectors.json``: per case the frame names, the Farneback parameters, OpenCV's flow
  ``cv2.calcOpticalFlowFarneback(a, b, None, *params)`` on a grid (every 4th row and column plus the last ones,
  float32 little-endian in base64: lossless) and whole-field statistics (mean dx, dy and magnitude in float64), and
  ``grayTable``: the SHA-256 of ``cv2.cvtColor(COLOR_RGB2GRAY)`` over an image holding every one of the 2^24
  colours (r major, then g, then b), so a test that reproduces the hash agrees with OpenCV on every pixel.

Needs Debian's python3-opencv and python3-numpy (generation only; the project never needs Python) and ffmpeg:

    /usr/bin/python3 scripts/make-flow-vectors.py
"""

import base64
import hashlib
import json
import os
import subprocess
import sys

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = os.path.join(ROOT, "test", "fixtures", "golden", "pipeline-tiny", "input.png")
OUT = os.path.join(ROOT, "test", "fixtures", "curation", "motion")

# video2dataset's Cv2Detector: pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags
V2D = [0.5, 3, 15, 3, 5, 1.2, 0]
GRID_STEP = 4


def gray(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def warp(rgb, matrix):
    h, w = rgb.shape[:2]
    return cv2.warpAffine(
        rgb, np.float32(matrix), (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
    )


def shift(dx, dy):
    # dst(x, y) = src(x - dx, y - dy): the content moves by (+dx, +dy), the true flow
    return [[1, 0, dx], [0, 1, dy]]


def zoom(s, w, h):
    cx, cy = (w - 1) / 2, (h - 1) / 2
    return [[s, 0, cx - s * cx], [0, s, cy - s * cy]]


def testsrc2_frames(width, height, indices):
    n = max(indices) + 1
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=8",
         "-frames:v", str(n), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(n, height, width, 3)
    return [frames[i] for i in indices]


def grid(n):
    g = list(range(0, n, GRID_STEP))
    if g[-1] != n - 1:
        g.append(n - 1)
    return g


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def gray_table_sha():
    v = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    return hashlib.sha256(gray(rgb).tobytes()).hexdigest()


def main():
    os.makedirs(os.path.join(OUT, "frames"), exist_ok=True)
    photo = cv2.cvtColor(cv2.imread(PHOTO, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    big = cv2.resize(photo, (256, 256), interpolation=cv2.INTER_CUBIC)
    odd = big[40:181, 20:223].copy()  # 203 x 141
    ts = testsrc2_frames(320, 256, [0, 2])
    rows = np.arange(96, dtype=np.float64)[:, None] * np.ones((1, 96))
    stripes = [np.clip(np.round(128 + 60 * np.sin((rows - d) / 5.0)), 0, 255).astype(np.uint8) for d in (0, 1)]

    frames = {
        "photo256": gray(big),
        "photo256-shift": gray(warp(big, shift(1.5, -0.75))),
        "photo256-shift-large": gray(warp(big, shift(-6.0, 4.0))),
        "photo256-zoom": gray(warp(big, zoom(1.06, 256, 256))),
        "testsrc2-a": gray(ts[0]),
        "testsrc2-b": gray(ts[1]),
        "photo64": gray(photo),
        "photo64-shift": gray(warp(photo, shift(0.5, 0.25))),
        "odd": gray(odd),
        "odd-shift": gray(warp(odd, shift(1.25, 0.8))),
        "stripes": stripes[0],
        "stripes-down": stripes[1],
    }
    for name, img in frames.items():
        cv2.imwrite(os.path.join(OUT, "frames", f"{name}.png"), img)

    gaussian = V2D[:6] + [cv2.OPTFLOW_FARNEBACK_GAUSSIAN]
    cases = [
        ("photo-shift", "photo256", "photo256-shift", V2D, "sub-pixel shift (1.5, -0.75)"),
        ("photo-shift-large", "photo256", "photo256-shift-large", V2D, "shift (-6, 4)"),
        ("photo-zoom", "photo256", "photo256-zoom", V2D, "zoom x1.06 about the centre"),
        ("testsrc2", "testsrc2-a", "testsrc2-b", V2D, "ffmpeg testsrc2 frames 0 and 2 at 8 fps"),
        ("photo64-shift", "photo64", "photo64-shift", V2D, "64x64: one pyramid level besides the frame"),
        ("odd-shift", "odd", "odd-shift", V2D, "203x141: pyramid sizes that are not exact halves"),
        ("stripes", "stripes", "stripes-down", V2D, "stripes moving across themselves: 1-D texture, no flow"),
        ("photo-shift-gaussian", "photo256", "photo256-shift", gaussian, "OPTFLOW_FARNEBACK_GAUSSIAN window"),
        ("photo-shift-winsize8", "photo256", "photo256-shift", [0.5, 2, 8, 2, 7, 1.5, 0],
         "even window, poly_n 7, 2 levels"),
    ]
    out_cases = []
    for name, a, b, params, what in cases:
        fa, fb = frames[a], frames[b]
        flow = cv2.calcOpticalFlowFarneback(fa, fb, None, *params)
        h, w = fa.shape
        xs, ys = grid(w), grid(h)
        sub = flow[np.ix_(ys, xs)]
        mag = np.sqrt(flow[..., 0].astype(np.float64) ** 2 + flow[..., 1].astype(np.float64) ** 2)
        out_cases.append({
            "name": name,
            "what": what,
            "prev": f"frames/{a}.png",
            "next": f"frames/{b}.png",
            "width": w,
            "height": h,
            "params": {
                "pyrScale": params[0], "levels": params[1], "winsize": params[2], "iterations": params[3],
                "polyN": params[4], "polySigma": params[5], "flags": params[6],
            },
            "grid": {"xs": xs, "ys": ys, "dx": b64(sub[..., 0]), "dy": b64(sub[..., 1])},
            "stats": {
                "meanDx": float(flow[..., 0].astype(np.float64).mean()),
                "meanDy": float(flow[..., 1].astype(np.float64).mean()),
                "meanMagnitude": float(mag.mean()),
                "maxMagnitude": float(mag.max()),
            },
        })
        print(f"{name}: {w}x{h} mean |flow| {mag.mean():.4f}", file=sys.stderr)

    doc = {
        "generator": "scripts/make-flow-vectors.py",
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "gridStep": GRID_STEP,
        "grayTable": {
            "what": "sha256 of cv2.cvtColor(COLOR_RGB2GRAY) of a 4096x4096 image of all 2^24 colours, "
                    "pixel i = (r, g, b) = (i >> 16, (i >> 8) & 255, i & 255)",
            "sha256": gray_table_sha(),
        },
        "cases": out_cases,
    }
    with open(os.path.join(OUT, "vectors.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
