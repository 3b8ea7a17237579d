"""Reference vectors for src/eval/lpips.ts: the `lpips` package itself (richzhang/PerceptualSimilarity 082bb24,
`lpips.LPIPS(net='alex', version='0.1', pnet_rand=True, pretrained=False)`, with torchvision 0.14's AlexNet, under
Debian's python3-torch 1.13 / python3-torchvision) with every weight set by a formula the TypeScript test repeats
(so no weight file is committed): weight[i] = bound · sin(0.7·i + 1.3·(layer + 1)) over the tensor in row-major
order, bound = 1/√fan_in for the AlexNet convs and their biases, 0.1 for the lin layers (then squared: ≥ 0, as the
released ones are). Inputs: three 64×64 image pairs made by formulas the test repeats (a pattern, and the pattern plus a hash 'noise'). Also writes a tiny torch.save file with
torchvision-style and lin keys to test the loader's key mapping.
Usage: PYTHONPATH=/tmp/lpips-src /usr/bin/python3 scripts/make-lpips-vectors.py test/fixtures/eval
  (/tmp/lpips-src: `git --git-dir=<mirror of richzhang/PerceptualSimilarity> archive HEAD lpips | tar x -C /tmp/lpips-src`)
"""
import json
import math
import sys

import numpy as np
import torch

import lpips

out_dir = sys.argv[1]
torch.manual_seed(0)
model = lpips.LPIPS(net='alex', version='0.1', pnet_rand=True, pretrained=False, verbose=False).eval()

convs = [('net.slice1.0', 0), ('net.slice2.3', 1), ('net.slice3.6', 2), ('net.slice4.8', 3), ('net.slice5.10', 4)]
state = model.state_dict()


def formula(shape, layer, bound):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    return torch.tensor((bound * np.sin(0.7 * i + 1.3 * (layer + 1))).reshape(shape), dtype=torch.float32)


new = {}
for name, layer in convs:
    w = state[name + '.weight']
    fan_in = w.shape[1] * w.shape[2] * w.shape[3]
    new[name + '.weight'] = formula(w.shape, layer, 1 / math.sqrt(fan_in))
    new[name + '.bias'] = formula(state[name + '.bias'].shape, layer + 10, 1 / math.sqrt(fan_in))
for k in range(5):
    w = state['lin%d.model.1.weight' % k]
    new['lin%d.model.1.weight' % k] = formula(w.shape, k + 20, 0.1) ** 2
model.load_state_dict(new, strict=False)

pairs = []
for noise in [0.05, 0.2, 0.6]:
    yy, xx = np.mgrid[0:64, 0:64]
    base = np.stack([np.sin(xx / 6.0) * np.cos(yy / 4.0), np.cos((xx - yy) / 8.0), ((xx * 3 + yy) % 23) / 11.5 - 1], 0)
    # a deterministic 'noise' the test repeats: sin(12.9898·i)·43758.5453 mod 1, centred
    i = np.arange(base.size, dtype=np.float64).reshape(base.shape)
    other = np.clip(base + noise * (2 * np.mod(np.sin(12.9898 * i) * 43758.5453, 1.0) - 1), -1, 1)
    a = torch.tensor(base[None], dtype=torch.float32)
    b = torch.tensor(other[None], dtype=torch.float32)
    with torch.no_grad():
        d = model(a, b).item()
    pairs.append({'noise': noise, 'distance': d})

json.dump({'made_by': 'scripts/make-lpips-vectors.py (lpips 082bb24, torch 1.13, torchvision 0.14)', 'size': 64,
           'pairs': pairs}, open(out_dir + '/lpips-vectors.json', 'w'))
keys = {'features.0.weight': torch.ones(1), 'features.0.bias': torch.ones(1) * 2, 'features.3.weight': torch.ones(1),
        'features.3.bias': torch.ones(1), 'features.6.weight': torch.ones(1), 'features.6.bias': torch.ones(1),
        'features.8.weight': torch.ones(1), 'features.8.bias': torch.ones(1), 'features.10.weight': torch.ones(1),
        'features.10.bias': torch.ones(1), 'classifier.1.weight': torch.ones(1)}
torch.save(keys, out_dir + '/lpips-trunk-keys.pth')
torch.save({'lin%d.model.1.weight' % k: torch.ones(1) * k for k in range(5)}, out_dir + '/lpips-lin-keys.pth')
print('distances', [p['distance'] for p in pairs])
