"""PyTorch 1.13 baseline for single-op benchmarks (`npm run bench -- groupnorm`; Debian python3-torch, /usr/bin/python3).

The bench drives this process over stdin/stdout, one JSON object per line, so that its timing blocks alternate with
ours in the same run:
  hello                                                             -> {"torch": version, "threads": n}
  {"cmd": "groupnorm", "shape": [N, C, H, W], "groups": G, "chain": k, "silu": bool, "mean": m, "warmup": w, "n": r}
      -> {"ms": [...r wall times of the whole chain]}
     (k torch.nn.functional.group_norm calls in a row, each on the previous output — the first on N(m, 1) input —
     each followed by F.silu when "silu"; weight and bias N(1, 0.1) and N(0, 0.1); eps 1e-5; under torch.no_grad.)
  {"cmd": "quit"}
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def timed(fn, warmup, n):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    reply({"torch": torch.__version__, "threads": torch.get_num_threads()})
    cache = {}
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "quit":
            break
        if cmd == "groupnorm":
            shape, groups = tuple(req["shape"]), req["groups"]
            key = (shape, groups, req["mean"])
            if key not in cache:
                g = torch.Generator().manual_seed(0)
                c = shape[1]
                cache[key] = (
                    torch.randn(*shape, generator=g) + req["mean"],
                    1 + 0.1 * torch.randn(c, generator=g),
                    0.1 * torch.randn(c, generator=g),
                )
            x, w, b = cache[key]
            chain, silu = req["chain"], req["silu"]

            def run():
                with torch.no_grad():
                    h = x
                    for _ in range(chain):
                        h = F.group_norm(h, groups, w, b, 1e-5)
                        if silu:
                            h = F.silu(h)
                return h

            reply({"ms": timed(run, req["warmup"], req["n"])})
        else:
            raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
