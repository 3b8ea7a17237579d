"""Baseline for `npm run bench -- curate`: the anchors' algorithms with Debian's python3-opencv on one core.

Per video: decode every frame with cv2.VideoCapture, resize to the cut analysis size (INTER_AREA) and compute
PySceneDetect's content score (mean absolute HSV difference of consecutive frames, weights 1/1/1, no edges) -- the
"decode + cuts" figure; then decode again, keep frames 0.5 s apart (2 fps), resize so the short side is 256 px,
convert to gray and run cv2.calcOpticalFlowFarneback with video2dataset's parameters -- the "motion" figure.
Prints one JSON object: per stage, seconds of wall time, seconds of video processed and the process's peak resident
size during the stage (bytes; VmHWM reset before each stage through /proc/self/clear_refs).
Usage: python3 bench/curate_baseline.py CUT_W CUT_H MOTION_W MOTION_H VIDEO...
"""
import json
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def cuts(path, w, h):
    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS)
    prev = None
    n = 0
    scores = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        hsv = cv2.split(cv2.cvtColor(small, cv2.COLOR_BGR2HSV))
        if prev is not None:
            d = [np.mean(np.abs(a.astype(np.int32) - b.astype(np.int32))) for a, b in zip(hsv, prev)]
            scores.append(sum(d) / 3.0)
        prev = hsv
        n += 1
    cap.release()
    return n / fps, sum(1 for s in scores if s >= 27.0)


def motion(path, w, h):
    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS)
    step = max(1, round(fps / 2))
    prev = None
    mags = []
    i = 0
    while True:
        ok = cap.grab()
        if not ok:
            break
        if i % step == 0:
            _, frame = cap.retrieve()
            gray = cv2.cvtColor(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
            if prev is not None:
                flow = cv2.calcOpticalFlowFarneback(prev, gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
                mags.append(float(np.mean(np.linalg.norm(flow, axis=2))))
            prev = gray
        i += 1
    cap.release()
    return i / fps, float(np.mean(mags)) if mags else 0.0


def main():
    cw, ch, mw, mh = (int(v) for v in sys.argv[1:5])
    out = {"decode_cuts": {"seconds": 0.0, "video": 0.0, "peak": 0}, "motion": {"seconds": 0.0, "video": 0.0, "peak": 0}}

    def stage(name, fn, path, w, h):
        reset_peak()
        t0 = time.perf_counter()
        video, _ = fn(path, w, h)
        out[name]["seconds"] += time.perf_counter() - t0
        out[name]["video"] += video
        out[name]["peak"] = max(out[name]["peak"], peak() or 0)

    for path in sys.argv[5:]:
        stage("decode_cuts", cuts, path, cw, ch)
        stage("motion", motion, path, mw, mh)
    print(json.dumps(out))


main()
