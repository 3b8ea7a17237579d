"""Reference vectors for src/eval/i3d.ts: piergiaj/pytorch-i3d's `InceptionI3d` itself (pytorch_i3d.py at the
mirrored HEAD) under Debian's python3-torch 1.13, in eval mode, with every weight set by a formula the TypeScript test
repeats (no weight file committed). For a key with n elements, s[i] = sin(0.37·i + 0.11·k) where k is the key's index
in the state dict order; conv weights = s/√fan_in, conv bias = 0.1·s; BN weight = 1 + 0.1·s, bias = 0.1·s,
running_mean = 0.1·s, running_var = 1 + 0.5·|s|. Cases: the Mixed_5c features of an 8×64×64 video (a formula video),
and the logits head (avg pool [2,7,7] + 1×1×1 conv, averaged over time) on formula features [1, 1024, 2, 7, 7].
Usage: PYTHONPATH=/tmp/i3d-src /usr/bin/python3 scripts/make-i3d-vectors.py > test/fixtures/eval/i3d-vectors.json
  (/tmp/i3d-src: `git --git-dir=<mirror of piergiaj/pytorch-i3d> archive HEAD pytorch_i3d.py | tar x -C /tmp/i3d-src`)
"""
import json
import math

import numpy as np
import torch

from pytorch_i3d import InceptionI3d

torch.set_num_threads(2)
model = InceptionI3d(400, in_channels=3).eval()
state = model.state_dict()
keys = [k for k in state.keys() if not k.endswith('num_batches_tracked')]


def s_of(n, k):
    return np.sin(0.37 * np.arange(n, dtype=np.float64) + 0.11 * k)


new = {}
for k, name in enumerate(keys):
    t = state[name]
    s = s_of(t.numel(), k)
    if name.endswith('conv3d.weight'):
        v = s / math.sqrt(t[0].numel())
    elif name.endswith('conv3d.bias'):
        v = 0.1 * s
    elif name.endswith('bn.weight'):
        v = 1 + 0.1 * s
    elif name.endswith('bn.bias') or name.endswith('running_mean'):
        v = 0.1 * s
    elif name.endswith('running_var'):
        v = 1 + 0.5 * np.abs(s)
    else:
        raise SystemExit('unexpected key ' + name)
    new[name] = torch.tensor(v.reshape(tuple(t.shape)), dtype=torch.float32)
model.load_state_dict(new, strict=False)

T, H, W = 8, 64, 64
i = np.arange(3 * T * H * W, dtype=np.float64)
video = torch.tensor(np.sin(0.013 * i) * np.cos(0.0007 * i), dtype=torch.float32).reshape(1, 3, T, H, W)
with torch.no_grad():
    x = video
    for end_point in model.VALID_ENDPOINTS:
        if end_point in model.end_points:
            x = model._modules[end_point](x)
    features = x
    j = np.arange(1024 * 2 * 7 * 7, dtype=np.float64)
    f = torch.tensor(np.abs(np.sin(0.031 * j)), dtype=torch.float32).reshape(1, 1024, 2, 7, 7)
    logits = model.logits(model.avg_pool(f)).squeeze(3).squeeze(3).mean(2)
print(json.dumps({
    'made_by': 'scripts/make-i3d-vectors.py (piergiaj/pytorch-i3d, torch 1.13)',
    'keys': keys,
    'video': [T, H, W],
    'features_shape': list(features.shape),
    'features': features.reshape(-1).tolist(),
    'logits': logits.reshape(-1).tolist(),
}))
