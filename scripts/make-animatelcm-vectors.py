#!/usr/bin/env python3
"""Reference vectors for the AnimateLCM-SVD consistency sampler (src/diffusion/consistency.ts,
test/diffusion/consistency.test.ts), made by running AnimateLCM's own scheduler.

The scheduler is ``AnimateLCMSVDStochasticIterativeScheduler`` of G-U-N/AnimateLCM
(``animatelcm_svd/animatelcm_scheduler.py``, commit f873122358c101cd191533adb9cd517899fbfb01), configured as its
``animatelcm_svd/app.py`` configures it for AnimateLCM-SVD-xt: 40 training timesteps, sigma_min 0.002, sigma_max 700,
sigma_data 1, s_noise 1, rho 7, clip_denoised False. It imports four things from diffusers, which Debian does not
package; this script puts small stand-ins for them in ``sys.modules`` before importing the file: ``ConfigMixin`` /
``register_to_config`` (keep the constructor's arguments as ``self.config``), ``SchedulerMixin`` and ``BaseOutput``
(plain bases), ``logging.get_logger``, and ``randn_tensor``, which hands out the noise tensors this script draws and
records (torch.randn with a seeded generator), so that the test can feed the same noise.

What it writes (test/fixtures/animatelcm/scheduler.json):
- ``schedules``: for 1, 2, 3, 4, 6 and 8 steps, ``set_timesteps(n)``'s ``sigmas`` (float32, n + 1 values, the last 0)
  and ``timesteps`` (float64: 0.25 ln(sigma + 1e-44) of the float64 Karras sigmas);
- ``initNoiseSigma``: ``init_noise_sigma`` (sqrt(sigma_max^2 + 1), a Python float);
- ``trajectory``: the pipeline's loop (animatelcm_svd/pipeline.py: latents = randn * init_noise_sigma; per timestep
  t: ``scale_model_input``, the network, ``step``) over 4 steps on a [2, 3, 2, 4] latent (2 rows), with a stand-in
  network F(x, t) = 0.9 tanh(0.7 x + 0.1 t) in float32. Per step: the network's input and output, the noise the step
  drew, and ``prev_sample``. Floats are written with ``repr`` (shortest round-trip), float32 values exactly.

Needs Debian's python3-torch and python3-numpy (generation only; the project never needs Python):

    git clone https://github.com/G-U-N/AnimateLCM /tmp/AnimateLCM   # or the search tool's fetch of the repository
    git -C /tmp/AnimateLCM checkout f873122358c101cd191533adb9cd517899fbfb01
    /usr/bin/python3 scripts/make-animatelcm-vectors.py --animatelcm /tmp/AnimateLCM

Running it again writes a byte-identical file (checked).
"""

import argparse
import importlib.util
import json
import math
import os
import sys
import types
from dataclasses import dataclass

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "animatelcm", "scheduler.json")
COMMIT = "f873122358c101cd191533adb9cd517899fbfb01"
CONFIG = dict(num_train_timesteps=40, sigma_min=0.002, sigma_max=700.0, sigma_data=1.0, s_noise=1.0, rho=7,
              clip_denoised=False)

# ---------------------------------------------------------------------------------------------- diffusers stand-ins
NOISE = []  # the tensors randn_tensor handed out, in order


class _Config(dict):
    __getattr__ = dict.__getitem__


def register_to_config(init):
    def wrapped(self, *args, **kwargs):
        names = init.__code__.co_varnames[1:init.__code__.co_argcount]
        defaults = dict(zip(names[len(names) - len(init.__defaults__ or ()):], init.__defaults__ or ()))
        self.config = _Config({**defaults, **dict(zip(names, args)), **kwargs})
        init(self, *args, **kwargs)

    return wrapped


def randn_tensor(shape, generator=None, device=None, dtype=None):
    noise = torch.randn(shape, generator=generator, dtype=dtype)
    NOISE.append(noise.clone())
    return noise


@dataclass
class BaseOutput:
    pass


class ConfigMixin:
    pass


class SchedulerMixin:
    pass


def install_stand_ins():
    mods = {
        "diffusers": types.ModuleType("diffusers"),
        "diffusers.configuration_utils": types.ModuleType("diffusers.configuration_utils"),
        "diffusers.utils": types.ModuleType("diffusers.utils"),
        "diffusers.utils.torch_utils": types.ModuleType("diffusers.utils.torch_utils"),
        "diffusers.schedulers": types.ModuleType("diffusers.schedulers"),
        "diffusers.schedulers.scheduling_utils": types.ModuleType("diffusers.schedulers.scheduling_utils"),
    }
    mods["diffusers.configuration_utils"].ConfigMixin = ConfigMixin
    mods["diffusers.configuration_utils"].register_to_config = register_to_config
    mods["diffusers.utils"].BaseOutput = BaseOutput
    mods["diffusers.utils"].logging = types.SimpleNamespace(
        get_logger=lambda name: types.SimpleNamespace(warning=lambda *a, **k: None))
    mods["diffusers.utils.torch_utils"].randn_tensor = randn_tensor
    mods["diffusers.schedulers.scheduling_utils"].SchedulerMixin = SchedulerMixin
    sys.modules.update(mods)


def load_scheduler(checkout):
    path = os.path.join(checkout, "animatelcm_svd", "animatelcm_scheduler.py")
    spec = importlib.util.spec_from_file_location("animatelcm_scheduler", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AnimateLCMSVDStochasticIterativeScheduler


# -------------------------------------------------------------------------------------------------------- vectors
def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def network(x, t):
    """The stand-in network: 0.9 tanh(0.7 x + 0.1 t), float32 (t cast to float32, as the UNet casts its timestep)."""
    return torch.tanh(x * 0.7 + torch.tensor(float(t), dtype=torch.float32) * 0.1) * 0.9


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--animatelcm", required=True, help="a checkout of G-U-N/AnimateLCM at " + COMMIT)
    args = parser.parse_args()
    install_stand_ins()
    Scheduler = load_scheduler(args.animatelcm)
    torch.set_num_threads(1)

    schedules = []
    for n in [1, 2, 3, 4, 6, 8]:
        s = Scheduler(**CONFIG)
        s.set_timesteps(n)
        assert s.sigmas.dtype == torch.float32 and s.timesteps.dtype == torch.float64
        schedules.append({"steps": n, "sigmas": floats(s.sigmas), "timesteps": floats(s.timesteps)})

    s = Scheduler(**CONFIG)
    s.set_timesteps(4)
    g = torch.Generator().manual_seed(0)
    shape = (2, 3, 2, 4)
    start = torch.randn(shape, generator=g, dtype=torch.float32)
    latents = start * s.init_noise_sigma  # pipeline.prepare_latents
    initial = latents.clone()
    steps = []
    for t in s.timesteps:
        scaled = s.scale_model_input(latents, t)
        out = network(scaled, t)
        before = len(NOISE)
        latents = s.step(out, t, latents, generator=g).prev_sample
        assert len(NOISE) == before + 1
        steps.append({"timestep": float(t), "networkInput": floats(scaled), "networkOutput": floats(out),
                      "noise": floats(NOISE[-1]), "prevSample": floats(latents)})
    doc = {
        "source": f"G-U-N/AnimateLCM@{COMMIT} animatelcm_svd/animatelcm_scheduler.py "
                  "(AnimateLCMSVDStochasticIterativeScheduler), configured as animatelcm_svd/app.py; "
                  f"torch {torch.__version__}; made by scripts/make-animatelcm-vectors.py",
        "config": CONFIG,
        "initNoiseSigma": s.init_noise_sigma,
        "schedules": schedules,
        "trajectory": {"shape": list(shape), "rows": shape[0], "start": floats(start), "initial": floats(initial),
                       "steps": steps},
    }
    assert math.isclose(doc["initNoiseSigma"], math.sqrt(700.0 ** 2 + 1))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
