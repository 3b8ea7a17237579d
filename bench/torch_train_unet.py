"""PyTorch 1.13 baseline for `npm run bench -- train-unet` (Debian python3-torch; run with /usr/bin/python3).

One training step of the reference's own VideoUNet (sgm.modules.diffusionmodules.video_model.VideoUNet of
Stability-AI/generative-models, imported from the checkout named by SVD_REFERENCE_REPO) inside the reference's
OpenAIWrapper + Denoiser(VScalingWithEDMcNoise) + StandardDiffusionLoss(VWeighting, l2), loss = mean over the batch
(DiffusionEngine.forward), then torch.optim.AdamW over every UNet parameter.

The bench (bench/train-unet.ts) drives this process over stdin/stdout, one JSON object per line, so that its timed
blocks alternate with ours in the same run:
  {"cmd": "load", "network": {...VideoUNet kwargs...}, "weights": path, "prefix": "model.diffusion_model.",
   "inputs": path, "frames": T, "adamw": {...}}         -> {"params": n}
  {"cmd": "step", "n": k}      -> {"ms": [...], "cpu": [...], "loss": [...]}  (forward + backward + AdamW, k steps)
  {"cmd": "forward", "n": k}   -> the same for the loss alone, under torch.no_grad
  {"cmd": "fwdbwd", "n": k}    -> the same for forward + backward without the update
  {"cmd": "update", "n": k}    -> the same for the AdamW update alone (opt.step() on the gradients of the last fwdbwd)
("ms": wall time per step; "cpu": the process's CPU time per step, all threads.)
  {"cmd": "mem"}               -> {"maxrss": bytes}
Inputs come as `input.<name>` tensors of a safetensors file: x0, sigma, noise, context, y, concat,
image_only_indicator (the inputs of our stage loss graph).

Torch 1.13 shims (sgm at 059d8e9 targets torch 2 + xformers): F.scaled_dot_product_attention is given its math
definition softmax(q kᵀ / √d) v, which is what torch 2 runs on CPU without flash kernels; the xformers attention class
is mapped to the reference's own CrossAttention (sgm's BasicTransformerBlock does that by itself when xformers is
missing). einops and safetensors are not Debian 12 packages: when missing, a small einops (rearrange / repeat of the
patterns sgm uses) and a safetensors reader stand in. sgm's package __init__ files (which import the whole training
stack: lightning, open_clip, ...) are bypassed; only the modules the UNet and the loss need are imported.
"""
import json
import math
import os
import resource
import struct
import sys
import time
import types

import numpy as np
import torch
import torch.nn.functional as F

PROTOCOL_OUT = sys.stdout
sys.stdout = sys.stderr  # anything sgm prints must not reach the protocol stream


def reply(obj):
    PROTOCOL_OUT.write(json.dumps(obj) + "\n")
    PROTOCOL_OUT.flush()


# ---------------------------------------------------------------------------------------------- safetensors reader
_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path, prefix=""):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__" or not name.startswith(prefix):
                continue
            a, b = info["data_offsets"]
            f.seek(base + a)
            arr = np.frombuffer(f.read(b - a), dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
            out[name[len(prefix):]] = torch.from_numpy(arr.copy())
    return out


# ------------------------------------------------------------------------------------------------- einops stand-in
def _parse(side):
    groups, cur = [], None
    for tok in side.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "(":
            cur = []
        elif tok == ")":
            groups.append(cur)
            cur = None
        elif tok == "1":
            if cur is None:
                groups.append([])
        elif cur is not None:
            cur.append(tok)
        else:
            groups.append([tok])
    return groups


def _expand(groups, k):
    ell = [f"...{i}" for i in range(k)]
    out = []
    for g in groups:
        if g == ["..."]:
            out.extend([[a] for a in ell])
        else:
            out.append([b for a in g for b in (ell if a == "..." else [a])])
    return out


def _einops(x, pattern, sizes, allow_new):
    left, right = pattern.split("->")
    lg, rg = _parse(left), _parse(right)
    k = x.dim() - (len(lg) - 1) if any("..." in g for g in lg) else 0
    lg, rg = _expand(lg, k), _expand(rg, k)
    if len(lg) != x.dim():
        raise ValueError(f"einops stand-in: {pattern} does not fit shape {tuple(x.shape)}")
    known = dict(sizes)
    for g, d in zip(lg, x.shape):
        unknown = [a for a in g if a not in known]
        prod = math.prod(known[a] for a in g if a in known)
        if len(unknown) == 1:
            known[unknown[0]] = d // prod
        elif unknown or prod != d:
            raise ValueError(f"einops stand-in: cannot split {g} of size {d}")
    left_axes = [a for g in lg for a in g]
    right_axes = [a for g in rg for a in g]
    kept = [a for a in right_axes if a in left_axes]
    if sorted(kept) != sorted(left_axes) or (not allow_new and len(kept) != len(right_axes)):
        raise ValueError(f"einops stand-in: unsupported pattern {pattern}")
    x = x.reshape([known[a] for a in left_axes]).permute([left_axes.index(a) for a in kept])
    view = [known[a] if a in left_axes else 1 for a in right_axes]
    x = x.reshape(view).expand([known[a] for a in right_axes])
    return x.reshape([math.prod(known[a] for a in g) for g in rg])


def _install_stand_ins():
    try:
        import einops  # noqa: F401
    except ImportError:
        m = types.ModuleType("einops")
        m.rearrange = lambda x, pattern, **s: _einops(x, pattern, s, False)
        m.repeat = lambda x, pattern, **s: _einops(x, pattern, s, True)
        sys.modules["einops"] = m
    try:
        import safetensors.torch  # noqa: F401
    except ImportError:
        st = types.ModuleType("safetensors")
        st.__path__ = []
        stt = types.ModuleType("safetensors.torch")
        stt.load_file = lambda path, device="cpu": read_safetensors(path)
        st.torch = stt
        sys.modules["safetensors"] = st
        sys.modules["safetensors.torch"] = stt
    if not hasattr(F, "scaled_dot_product_attention"):

        def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
            assert attn_mask is None and dropout_p == 0.0 and not is_causal
            return torch.softmax((q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5), dim=-1) @ v

        F.scaled_dot_product_attention = sdpa


def _package(name, path, **attrs):
    m = types.ModuleType(name)
    if path is not None:
        m.__path__ = [path]
    for k, v in attrs.items():
        setattr(m, k, v)
    sys.modules[name] = m


class GivenSigmas:
    """Sigma sampler returning the bench's sigmas (in place of EDMSampling, as the train-tiny golden does)."""

    sigmas = None

    def __call__(self, n):
        assert GivenSigmas.sigmas is not None and GivenSigmas.sigmas.shape[0] == n
        return GivenSigmas.sigmas


def import_reference(repo):
    root = os.path.join(repo, "sgm")
    if not os.path.isfile(os.path.join(root, "modules", "diffusionmodules", "video_model.py")):
        raise SystemExit(f"SVD_REFERENCE_REPO={repo} has no sgm/modules/diffusionmodules/video_model.py")
    _install_stand_ins()
    # Bypass the package __init__ files (they import the whole training stack) and the loss module's LPIPS and
    # conditioner imports (unused with loss_type l2 and a given cond).
    _package("sgm", root)
    _package("sgm.modules", os.path.join(root, "modules"))
    _package("sgm.modules.diffusionmodules", os.path.join(root, "modules", "diffusionmodules"))
    for name in ("autoencoding", "autoencoding.lpips", "autoencoding.lpips.loss"):
        _package(f"sgm.modules.{name}", None)
    _package("sgm.modules.autoencoding.lpips.loss.lpips", None, LPIPS=None)
    _package("sgm.modules.encoders", None)
    _package("sgm.modules.encoders.modules", None, GeneralConditioner=None)
    from sgm.modules import attention, video_attention
    from sgm.modules.diffusionmodules import denoiser, loss, video_model, wrappers

    attention.BACKEND_MAP.setdefault(None, {})
    if not attention.XFORMERS_IS_AVAILABLE:
        video_attention.VideoTransformerBlock.ATTENTION_MODES["softmax-xformers"] = attention.CrossAttention
    return video_model, wrappers, denoiser, loss


class Case:
    def __init__(self, req, ref):
        video_model, wrappers, denoiser, loss = ref
        weights = read_safetensors(req["weights"], req["prefix"])
        inputs = read_safetensors(req["inputs"], "input.")
        torch.manual_seed(0)
        self.unet = video_model.VideoUNet(**req["network"])
        missing, unexpected = self.unet.load_state_dict(weights, strict=False)
        if missing or unexpected:
            raise SystemExit(f"state dict mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
        self.unet.train()
        self.network = wrappers.OpenAIWrapper(self.unet)
        self.denoiser = denoiser.Denoiser(
            {"target": "sgm.modules.diffusionmodules.denoiser_scaling.VScalingWithEDMcNoise"}
        )
        self.loss = loss.StandardDiffusionLoss(
            sigma_sampler_config={"target": "__main__.GivenSigmas"},
            loss_weighting_config={"target": "sgm.modules.diffusionmodules.loss_weighting.VWeighting"},
            loss_type="l2",
            batch2model_keys=["image_only_indicator", "num_video_frames"],
        )
        GivenSigmas.sigmas = inputs["sigma"]
        self.noise = inputs["noise"]
        randn_like = torch.randn_like
        torch.randn_like = lambda t, **kw: self.noise.clone() if t.shape == self.noise.shape else randn_like(t, **kw)
        self.x0 = inputs["x0"]
        self.cond = {"crossattn": inputs["context"], "vector": inputs["y"], "concat": inputs["concat"]}
        self.batch = {"image_only_indicator": inputs["image_only_indicator"], "num_video_frames": req["frames"]}
        h = req["adamw"]
        self.opt = torch.optim.AdamW(
            self.unet.parameters(), lr=h["lr"], betas=tuple(h["betas"]), eps=h["eps"], weight_decay=h["weight_decay"]
        )
        self.params = sum(p.numel() for p in self.unet.parameters())

    def loss_value(self):
        return self.loss._forward(self.network, self.denoiser, self.cond, self.x0, self.batch).mean()

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        value = self.loss_value()
        value.backward()
        self.opt.step()
        return value.item()

    def fwdbwd(self):
        self.opt.zero_grad(set_to_none=True)
        value = self.loss_value()
        value.backward()
        return value.item()

    def forward(self):
        with torch.no_grad():
            return self.loss_value().item()

    def update(self):
        assert all(p.grad is not None for p in self.unet.parameters()), "run fwdbwd first"
        self.opt.step()
        return 0.0


def timed(fn, n):
    ms, cpu, losses = [], [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        losses.append(fn())
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"ms": ms, "cpu": cpu, "loss": losses}


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    repo = os.environ.get("SVD_REFERENCE_REPO")
    if not repo:
        raise SystemExit("SVD_REFERENCE_REPO is not set")
    ref = import_reference(repo)
    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()})
    case = None
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "load":
            case = Case(req, ref)
            reply({"params": case.params})
        elif cmd in ("step", "forward", "fwdbwd", "update"):
            reply(timed(getattr(case, cmd), req["n"]))
        elif cmd == "mem":
            reply({"maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
        elif cmd == "quit":
            break
        else:
            raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
