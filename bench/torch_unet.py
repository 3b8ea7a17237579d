"""PyTorch 1.13 baseline for `npm run bench -- unet` (Debian python3-torch; run with /usr/bin/python3).

One evaluation of the reference's own VideoUNet (sgm.modules.diffusionmodules.video_model.VideoUNet of
Stability-AI/generative-models, imported from the checkout named by SVD_REFERENCE_REPO with the torch 1.13 shims of
bench/torch_train_unet.py), in eval mode under torch.no_grad, on the inputs the diffusion wrapper gives it: the noisy
latent concatenated with the conditioning latent (8 channels), timesteps, the single context token and the vector
conditioning, num_video_frames and image_only_indicator (zeros). Weights: PyTorch's own initialisation (the time of a
dense evaluation does not depend on the values); the architecture is the one the bench sends (svd-xt's
network_config.params).

The bench drives this process over stdin/stdout, one JSON object per line:
  {"cmd": "load", "network": {...VideoUNet kwargs...}}           -> {"params": n, "seconds": s}
  {"cmd": "forward", "videos": V, "frames": T, "latent": L, "warmup": w, "n": k}
      -> {"ms": [...k wall times], "first_ms": first warm-up, "peak": bytes}
     ("peak": the process's VmHWM over this request, reset at its start through /proc/self/clear_refs; it includes
     the weights.)
  {"cmd": "quit"}
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train_unet import import_reference, reply  # noqa: E402  (also sends sgm's prints to stderr)


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


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    repo = os.environ.get("SVD_REFERENCE_REPO")
    if not repo:
        raise SystemExit("SVD_REFERENCE_REPO is not set")
    video_model, _, _, _ = import_reference(repo)
    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()})
    unet = None
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "load":
            t0 = time.perf_counter()
            torch.manual_seed(0)
            unet = video_model.VideoUNet(**req["network"]).eval()
            reply({"params": sum(p.numel() for p in unet.parameters()), "seconds": time.perf_counter() - t0})
        elif cmd == "forward":
            reset_peak()
            v, t, lat = req["videos"], req["frames"], req["latent"]
            n = v * t
            g = torch.Generator().manual_seed(1)
            x = torch.randn(n, unet.in_channels, lat, lat, generator=g)
            ts = torch.full((n,), 0.25 * 2.302585092994046)
            context = torch.randn(n, 1, req["context_dim"], generator=g)
            y = torch.randn(n, req["adm_in_channels"], generator=g)
            indicator = torch.zeros(v, t)

            def run():
                with torch.no_grad():
                    out = unet(x, ts, context=context, y=y, num_video_frames=t, image_only_indicator=indicator)
                assert torch.isfinite(out).all()

            first = None
            for _ in range(req.get("warmup", 1)):
                t0 = time.perf_counter()
                run()
                first = first if first is not None else (time.perf_counter() - t0) * 1000
            ms = []
            for _ in range(req["n"]):
                t0 = time.perf_counter()
                run()
                ms.append((time.perf_counter() - t0) * 1000)
            reply({"ms": ms, "first_ms": first, "peak": peak()})
        elif cmd == "quit":
            break
        else:
            raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
