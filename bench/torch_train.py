"""PyTorch 1.13 baseline for `npm run bench -- train` (Debian python3-torch; run with /usr/bin/python3).

The same networks as bench/train.ts: (1) one 3x3 conv, 320 channels, 64x64, forward + backward (dX and dW);
(2) one AdamW train step of a small conv + attention net. Prints one JSON line per case; "vmhwm" is the process's
peak resident size during that case (reset through /proc/self/clear_refs before it; it includes the interpreter and
torch themselves).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
RUNS, WARMUP = 11, 3


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def vmhwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def timed(fn):
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


g = torch.Generator().manual_seed(0)

# (1) conv forward + backward
reset_peak()
x = torch.randn(1, 320, 64, 64, generator=g, requires_grad=True)
w = (torch.randn(320, 320, 3, 3, generator=g) / math.sqrt(320 * 9)).requires_grad_()
b = torch.zeros(320, requires_grad=True)
gy = torch.randn(1, 320, 64, 64, generator=g)


def conv_step():
    x.grad = w.grad = b.grad = None
    y = F.conv2d(x, w, b, padding=1)
    y.backward(gy)


print(json.dumps({"case": "conv", "ms": timed(conv_step), "vmhwm": vmhwm()}), flush=True)


# (2) small conv + attention net, one AdamW step
class Net(torch.nn.Module):
    def __init__(self, c=128, heads=4):
        super().__init__()
        self.conv_in = torch.nn.Conv2d(4, c, 3, padding=1)
        self.norm = torch.nn.GroupNorm(32, c)
        self.conv = torch.nn.Conv2d(c, c, 3, padding=1)
        self.ln = torch.nn.LayerNorm(c)
        self.qkv = torch.nn.Linear(c, 3 * c, bias=False)
        self.proj = torch.nn.Linear(c, c)
        self.conv_out = torch.nn.Conv2d(c, 4, 3, padding=1)
        self.heads = heads

    def forward(self, x):
        h = self.conv_in(x)
        h = h + self.conv(F.silu(self.norm(h)))
        n, c, hh, ww = h.shape
        t = h.flatten(2).transpose(1, 2)  # [n, hw, c]
        q, k, v = self.qkv(self.ln(t)).chunk(3, dim=-1)
        split = lambda z: z.reshape(n, hh * ww, self.heads, c // self.heads).transpose(1, 2)
        a = torch.softmax(split(q) @ split(k).transpose(-1, -2) / math.sqrt(c // self.heads), dim=-1) @ split(v)
        t = t + self.proj(a.transpose(1, 2).reshape(n, hh * ww, c))
        h = t.transpose(1, 2).reshape(n, c, hh, ww)
        return self.conv_out(h)


reset_peak()
net = Net()
opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
data = torch.randn(4, 4, 32, 32, generator=g)
target = torch.randn(4, 4, 32, 32, generator=g)


def train_step():
    opt.zero_grad(set_to_none=True)
    loss = F.mse_loss(net(data), target)
    loss.backward()
    opt.step()


print(json.dumps({"case": "net", "ms": timed(train_step), "vmhwm": vmhwm()}), flush=True)
