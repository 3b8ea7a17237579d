#!/usr/bin/env python3
"""Reference vectors for the cut detectors in src/curation/cuts/ (test/curation/cuts/vectors.test.ts).

What it writes (small JSON, committed under test/fixtures/curation/cuts/):

- ``hsv-table.json``: OpenCV's ``cv2.cvtColor(img, cv2.COLOR_BGR2HSV)`` on an image holding every one of the 2^24
  8-bit colours, as SHA-256 hashes (one per red value, 256 slices of 65 536 colours, and one of the whole table),
  plus a few explicit samples. A test that reproduces the hashes agrees with OpenCV on every possible pixel.
- ``vectors.json``: for a few small test videos (96x64, 24 fps, a few seconds: lavfi testsrc2 / mandelbrot /
  smptebars / ... segments joined at known frames, fades, a cross-fade, a pan and a zoom over the repository's test
  photo), per frame: the SHA-256 (first 16 hex digits) of the decoded RGB frame and of its H, S, V planes (in that
  order, as cv2.split gives them), the HSV means, PySceneDetect's score components and ``content_val``, and AdaptiveDetector's ``adaptive_ratio``; per video the cuts of
  ContentDetector and AdaptiveDetector under several parameter sets.

How the frames are made exactly reproducible: the videos are lossless (FFV1, pix_fmt bgr0, ``-bitexact``), made by
the ffmpeg command recorded in ``vectors.json`` (``ffmpegArgs``; the tests run that very command), and decoded by
the ffmpeg command recorded as ``decodeArgs`` (the one src/video/frame-stream.ts builds; the tests check that they
are the same). The SHA-256 of the decoded frames is recorded too, so a test on a machine whose ffmpeg makes
different pixels fails saying so, instead of comparing scores of different frames.

The detectors are PySceneDetect's own code (Breakthrough/PySceneDetect at 131c5f6, ``__version__`` 0.7.1; its
imports need only numpy and cv2): give the checkout with ``--scenedetect`` (or put it on PYTHONPATH). Frames are fed
to ``process_frame`` with frame-number timecodes (``FrameTimecode(i, fps)``), with a StatsManager attached to read
the scores (a run without one checks that it changes no cut). A run through ``SceneManager`` + ``open_video``
(OpenCV backend) on the same file is recorded as ``sceneManagerCuts`` and printed when it differs: it does where a
cut lies exactly ``min_scene_len`` frames after the previous one, because 0.7 compares Matroska's millisecond
timestamps (333 ms) with ``min_scene_len / fps`` seconds (0.3333 s); the frame-number cuts are the reference.

Needs Debian's python3-opencv and python3-numpy (generation only; the project never needs Python) and ffmpeg:

    git clone https://github.com/Breakthrough/PySceneDetect /tmp/PySceneDetect
    git -C /tmp/PySceneDetect checkout 131c5f6
    /usr/bin/python3 scripts/make-cut-vectors.py --scenedetect /tmp/PySceneDetect

Running it again writes byte-identical files (checked).
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO = "test/fixtures/golden/pipeline-tiny/input.png"
OUT_DIR = "test/fixtures/curation/cuts"
W, H, FPS = 96, 64, 24

# Every segment ends in the same pixel format and aspect, so concat joins them frame-exactly.
NORM = ",format=rgb24,setsar=1,settb=1/24"


def seg(source: str, frames: int, extra: str = "") -> str:
    return f"{source},trim=end_frame={frames}{extra}{NORM}"


VIDEOS = [
    {
        "name": "cuts",
        "description": "hard cuts between lavfi sources; an 8-frame first segment (a cut inside the first "
        "min_scene_len frames), a 10-frame smptebars flash (two cuts 10 frames apart: the flash filter), and "
        "a seeded Game of Life segment whose every frame changes a lot",
        "photo": False,
        "graph": ";".join(
            [
                seg(f"smptehdbars=s={W}x{H}:r={FPS}", 8) + "[s0]",
                seg(f"testsrc2=s={W}x{H}:r={FPS}", 48) + "[s1]",
                seg(f"mandelbrot=s={W}x{H}:r={FPS}", 48) + "[s2]",
                seg(f"smptebars=s={W}x{H}:r={FPS}", 10) + "[s3]",
                seg(f"testsrc=s={W}x{H}:r={FPS}", 48) + "[s4]",
                seg(
                    f"life=s={W}x{H}:r={FPS}:seed=7:mold=10:ratio=0.3:death_color=#204080:life_color=#e0c030",
                    36,
                )
                + "[s5]",
                seg(f"rgbtestsrc=s={W}x{H}:r={FPS}", 30) + "[s6]",
                "[s0][s1][s2][s3][s4][s5][s6]concat=n=7:v=1:a=0[v]",
            ]
        ),
        "frameCount": 228,
        "hardCuts": [8, 56, 104, 114, 162, 198],
    },
    {
        "name": "fades",
        "description": "testsrc2 fading out to black over frames 24-35, mandelbrot fading in over frames 36-47, "
        "a 1 s cross-fade (xfade) from mandelbrot to testsrc over frames 72-95, a hard cut to rgbtestsrc at 144",
        "photo": False,
        "graph": ";".join(
            [
                seg(f"testsrc2=s={W}x{H}:r={FPS}", 36, ",fade=t=out:start_frame=24:nb_frames=12") + "[a]",
                seg(f"mandelbrot=s={W}x{H}:r={FPS}", 60, ",fade=t=in:start_frame=0:nb_frames=12") + "[b]",
                "[a][b]concat=n=2:v=1:a=0,settb=1/24[ab]",
                seg(f"testsrc=s={W}x{H}:r={FPS}", 72) + "[c]",
                "[ab][c]xfade=transition=fade:duration=1:offset=3" + NORM + "[x]",
                seg(f"rgbtestsrc=s={W}x{H}:r={FPS}", 24) + "[d]",
                "[x][d]concat=n=2:v=1:a=0[v]",
            ]
        ),
        "frameCount": 168,
        "hardCuts": [144],
    },
    {
        "name": "motion",
        "description": "the test photo (upscaled to 384x384) panned at (3, 1) px/frame for 48 frames, then zoomed "
        "(zoompan z = 1 + 0.01*frame) for 48 frames, then a hard cut to testsrc2 at 96",
        "photo": True,
        "graph": ";".join(
            [
                "[0:v]scale=384:384:flags=lanczos,format=rgb24,split[p1][p2]",
                f"[p1]crop=w={W}:h={H}:x='40+3*n':y='60+n',trim=end_frame=48{NORM}[a]",
                f"[p2]crop=384:256:0:64,zoompan=z='1+0.01*on':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:"
                f"s={W}x{H}:fps={FPS},trim=end_frame=48{NORM}[b]",
                seg(f"testsrc2=s={W}x{H}:r={FPS}", 24) + "[c]",
                "[a][b][c]concat=n=3:v=1:a=0[v]",
            ]
        ),
        "frameCount": 120,
        "hardCuts": [48, 96],
    },
]

# Parameter sets run on every video: (id, class, kwargs). Defaults first.
DETECTORS = [
    ("content", "ContentDetector", {}),
    ("content-suppress", "ContentDetector", {"filter_mode": "SUPPRESS"}),
    ("content-t12-len8", "ContentDetector", {"threshold": 12.0, "min_scene_len": 8}),
    ("content-luma", "ContentDetector", {"luma_only": True, "threshold": 20.0}),
    ("content-len0", "ContentDetector", {"threshold": 20.0, "min_scene_len": 0}),
    ("adaptive", "AdaptiveDetector", {}),
    ("adaptive-w3", "AdaptiveDetector", {"window_width": 3, "min_content_val": 8.0, "min_scene_len": 8}),
    ("adaptive-w1-t2", "AdaptiveDetector", {"window_width": 1, "adaptive_threshold": 2.0, "min_scene_len": 4}),
]


def ffmpeg_make_args(video: dict) -> list:
    """The ffmpeg arguments that make `video`; `{photo}` and `{out}` are placeholders (repo-relative photo)."""
    inputs = ["-loop", "1", "-framerate", str(FPS), "-i", "{photo}"] if video["photo"] else []
    return [
        *["-hide_banner", "-loglevel", "error", "-nostdin", "-y", *inputs],
        *["-filter_complex", video["graph"], "-map", "[v]", "-frames:v", str(video["frameCount"])],
        *["-c:v", "ffv1", "-pix_fmt", "bgr0", "-fflags", "+bitexact", "-flags:v", "+bitexact", "{out}"],
    ]


def decode_args(width: int, height: int) -> list:
    """What src/video/frame-stream.ts `frameStreamArgs({in}, { width, height })` returns (checked by the tests)."""
    flags = "flags=area+accurate_rnd+full_chroma_int"
    return [
        *["-hide_banner", "-loglevel", "error", "-nostdin", "-i", "{in}"],
        *["-map", "0:V:0", "-an", "-sn", "-dn"],
        *["-vf", f"scale=w={width}:h={height}:{flags},setsar=1,format=rgb24", "-fps_mode", "cfr"],
        *["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
    ]


def fill(args: list, **values) -> list:
    out = []
    for a in args:
        for k, v in values.items():
            a = a.replace("{" + k + "}", v)
        out.append(a)
    return out


def decode(path: str, width: int, height: int) -> list:
    raw = subprocess.run(["ffmpeg", *fill(decode_args(width, height), **{"in": path})], check=True, capture_output=True)
    n = width * height * 3
    assert len(raw.stdout) % n == 0, "partial frame"
    buf = np.frombuffer(raw.stdout, np.uint8)
    return [buf[i : i + n].reshape(height, width, 3) for i in range(0, len(buf), n)]


def sha(*arrays, short: bool = False) -> str:
    """SHA-256 (hex) of the arrays' bytes in order; `short`: its first 16 hex digits (per-frame fields)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16] if short else h.hexdigest()


def hsv_table() -> dict:
    idx = np.arange(1 << 24, dtype=np.uint32)
    r, g, b = (idx >> 16).astype(np.uint8), ((idx >> 8) & 255).astype(np.uint8), (idx & 255).astype(np.uint8)
    bgr = np.stack([b, g, r], axis=1).reshape(4096, 4096, 3)
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV).reshape(256, 65536 * 3)
    rng = np.random.default_rng(20240601)
    picks = [int(x) for x in rng.integers(0, 1 << 24, size=48)] + [0, 0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0xFF00FF]
    flat = hsv.reshape(-1, 3)
    return {
        "what": "cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV) for every 8-bit colour; colour index = R<<16 | G<<8 | B; "
        "bySlice[R] = sha256 of the interleaved H,S,V bytes of the 65536 colours with that R, in index order",
        "opencv": cv2.__version__,
        "all": sha(hsv),
        "bySlice": [sha(hsv[i]) for i in range(256)],
        "samples": [{"rgb": [p >> 16, (p >> 8) & 255, p & 255], "hsv": [int(x) for x in flat[p]]} for p in picks],
    }


def run_detector(scenedetect, cls_name: str, kwargs: dict, frames_bgr: list, with_stats: bool):
    from scenedetect.common import FrameTimecode
    from scenedetect.detector import FlashFilter
    from scenedetect.stats_manager import StatsManager

    kw = dict(kwargs)
    if "filter_mode" in kw:
        kw["filter_mode"] = FlashFilter.Mode[kw["filter_mode"]]
    detector = getattr(scenedetect.detectors, cls_name)(**kw)
    stats = StatsManager() if with_stats else None
    detector.stats_manager = stats
    cuts = []
    last = None
    for i, frame in enumerate(frames_bgr):
        last = FrameTimecode(i, float(FPS))
        cuts += [int(c.frame_num) for c in detector.process_frame(last, frame)]
    if last is not None:
        cuts += [int(c.frame_num) for c in detector.post_process(last)]
    return cuts, stats, detector


def scene_manager_cuts(scenedetect, cls_name: str, kwargs: dict, path: str) -> list:
    from scenedetect.detector import FlashFilter

    kw = dict(kwargs)
    if "filter_mode" in kw:
        kw["filter_mode"] = FlashFilter.Mode[kw["filter_mode"]]
    video = scenedetect.open_video(path, backend="opencv")
    manager = scenedetect.SceneManager()
    manager.add_detector(getattr(scenedetect.detectors, cls_name)(**kw))
    manager.detect_scenes(video)
    scenes = manager.get_scene_list(start_in_scene=True)
    return [int(s[0].frame_num) for s in scenes[1:]]


def video_vectors(scenedetect, video: dict, tmp: str) -> dict:
    out = os.path.join(tmp, video["name"] + ".mkv")
    make = ffmpeg_make_args(video)
    subprocess.run(["ffmpeg", *fill(make, photo=os.path.join(ROOT, PHOTO), out=out)], check=True)
    frames = decode(out, W, H)
    assert len(frames) == video["frameCount"], f"{video['name']}: {len(frames)} frames"
    bgr = [f[:, :, ::-1] for f in frames]

    per_frame = []
    for f in bgr:
        hsv = cv2.cvtColor(f, cv2.COLOR_BGR2HSV)
        h, s, v = cv2.split(hsv)
        per_frame.append(
            {
                "rgb": sha(f[:, :, ::-1], short=True),
                "hsv": sha(h, s, v, short=True),
                "hsvMean": [float(h.mean()), float(s.mean()), float(v.mean())],
            }
        )

    results = {}
    for det_id, cls_name, kwargs in DETECTORS:
        cuts, stats, detector = run_detector(scenedetect, cls_name, kwargs, bgr, with_stats=True)
        plain, _, _ = run_detector(scenedetect, cls_name, kwargs, bgr, with_stats=False)
        assert plain == cuts, f"{det_id}: a StatsManager changed the cuts ({plain} vs {cuts})"
        managed = scene_manager_cuts(scenedetect, cls_name, kwargs, out)
        # SceneManager reports scene starts; a cut at frame 0 cannot occur, so they are the cuts themselves.
        results[det_id] = {
            "detector": cls_name,
            "params": kwargs,
            "cuts": cuts,
            "sceneManagerCuts": managed,
        }
        if det_id in ("content", "content-luma"):
            keys = ["content_val", "delta_hue", "delta_sat", "delta_lum"]
            for i, rec in enumerate(per_frame):
                vals = stats.get_metrics(i, keys)
                field = "content" if det_id == "content" else "luma"
                rec[field] = None if vals[0] is None else [float(x) for x in vals]
        if det_id.startswith("adaptive"):
            key = detector._adaptive_ratio_key
            for i, rec in enumerate(per_frame):
                value = stats.get_metrics(i, [key])[0]
                rec.setdefault("adaptiveRatio", {})[det_id] = None if value is None else float(value)

    return {
        "name": video["name"],
        "description": video["description"],
        "width": W,
        "height": H,
        "fps": FPS,
        "frameCount": len(frames),
        "hardCuts": video["hardCuts"],
        "ffmpegArgs": make,
        "decodeArgs": decode_args(W, H),
        "rgbSha256": sha(*frames),
        "detectors": results,
        "frames": per_frame,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenedetect", help="a PySceneDetect checkout (the folder holding scenedetect/)")
    parser.add_argument("--out", default=os.path.join(ROOT, OUT_DIR))
    args = parser.parse_args()
    if args.scenedetect:
        sys.path.insert(0, os.path.abspath(args.scenedetect))
    import scenedetect
    import scenedetect.detectors

    os.makedirs(args.out, exist_ok=True)
    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    with tempfile.TemporaryDirectory() as tmp:
        videos = [video_vectors(scenedetect, v, tmp) for v in VIDEOS]
    doc = {
        "generator": "scripts/make-cut-vectors.py",
        "pyscenedetect": {"version": scenedetect.__version__, "commit": "131c5f6"},
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "ffmpeg": ffmpeg_version,
        "photo": PHOTO,
        "videos": videos,
    }
    with open(os.path.join(args.out, "vectors.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(args.out, "hsv-table.json"), "w") as f:
        json.dump(hsv_table(), f, indent=1)
        f.write("\n")
    for v in videos:
        summary = {k: r["cuts"] for k, r in v["detectors"].items()}
        print(v["name"], v["frameCount"], "frames", json.dumps(summary))
        for k, r in v["detectors"].items():
            if r["cuts"] != r["sceneManagerCuts"]:
                print(f"  note: {k}: SceneManager gives {r['sceneManagerCuts']}")


if __name__ == "__main__":
    main()
