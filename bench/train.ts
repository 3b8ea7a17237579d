/**
 * `npm run bench -- train`: training steps, ours against the same networks in PyTorch 1.13 (Debian python3-torch +
 * libopenblas0-openmp, 2 threads; install with `bash scripts/setup-bench.sh`; skipped with a message when missing):
 * (1) one 3×3 conv, 320 channels, 64×64: forward + backward (dX, dW, db);
 * (2) one AdamW step of a small conv + GroupNorm + attention net on [4, 4, 32, 32].
 * Median of 11 after 3 warm-ups; VmHWM is each process's peak during the case (reset before it where Linux allows).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { valueAndGrad } from '../src/graph/autodiff/index.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import * as op from '../src/graph/ops/index.ts';
import { conv, groupNorm, layerNorm, linear } from '../src/nn/layers.ts';
import { Params } from '../src/nn/params.ts';
import { Engine } from '../src/runtime/engine.ts';
import { gib, memoryFigures } from '../src/runtime/process-memory.ts';
import { HostTensor } from '../src/tensor/host-tensor.ts';
import { Rng } from '../src/tensor/rng.ts';
import { numel } from '../src/tensor/shape.ts';
import { constantLr } from '../src/training/schedules.ts';
import { buildTrainStep } from '../src/training/train-step.ts';
import { Trainer } from '../src/training/trainer.ts';
import { recordFigure, resetPeak } from './report.ts';
import { fmtMs, machineLine, timeIt } from './stats.ts';
import { PY, torchEnv, torchUnavailable } from './torch-process.ts';

const SUITE = 'train';

function torchBaseline(threads: number): Record<string, { ms: number; vmhwm: number }> | string {
  const missing = torchUnavailable();
  if (missing) return missing;
  const script = fileURLToPath(new URL('./torch_train.py', import.meta.url));
  const r = spawnSync(PY, [script, String(threads)], { encoding: 'utf8', env: torchEnv(), timeout: 600_000 });
  if (r.status !== 0) return `the PyTorch baseline failed: ${r.stderr.trim().split('\n').pop()}`;
  const out: Record<string, { ms: number; vmhwm: number }> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const j = JSON.parse(line);
    out[j.case] = { ms: j.ms, vmhwm: j.vmhwm };
  }
  return out;
}

function he(rng: Rng, key: string, shape: readonly number[]): HostTensor {
  const t = rng.randn(key, shape);
  const std = 1 / Math.sqrt(numel(shape) / shape[0]);
  for (let i = 0; i < t.data.length; i++) t.data[i] *= std;
  return t;
}

async function oursConv(engine: Engine, rng: Rng): Promise<number> {
  const b = new GraphBuilder('conv_bwd');
  const x = b.input('x', [1, 320, 64, 64]);
  b.output('y', op.conv(x, b.input('w', [320, 320, 3, 3]), b.input('b', [320]), { padding: 1 }));
  const g = valueAndGrad(b.build(), ['x', 'w', 'b'], { upstream: 'input' });
  const feeds = {
    x: await engine.upload(rng.randn('x', [1, 320, 64, 64])),
    w: await engine.upload(he(rng, 'w', [320, 320, 3, 3])),
    b: await engine.upload(HostTensor.zeros('float32', [320])),
    grad_output: await engine.upload(rng.randn('gy', [1, 320, 64, 64])),
  };
  return (await timeIt(() => engine.run(g, feeds), { runs: 11 })).median;
}

function smallNetLoss(batch: number, c = 128, heads = 4) {
  const b = new GraphBuilder('small_attn_net');
  const p = new Params(b);
  const x = b.input('data', [batch, 4, 32, 32]);
  let h = conv(p.pp('conv_in'), x, 4, c, { kernel: 3, padding: 1 });
  h = op.add(h, conv(p.pp('conv'), op.silu(groupNorm(p.pp('norm'), h, c, 1e-5)), c, c, { kernel: 3, padding: 1 }));
  const t = op.transpose(op.reshape(h, [batch, c, 32 * 32]), [0, 2, 1]); // [n, hw, c]
  const [q, k, v] = op.split(linear(p.pp('qkv'), layerNorm(p.pp('ln'), t, c), c, 3 * c, false), 3, -1);
  const t2 = op.add(t, linear(p.pp('proj'), op.attention(q, k, v, heads), c, c));
  h = op.reshape(op.transpose(t2, [0, 2, 1]), [batch, c, 32, 32]);
  const y = conv(p.pp('conv_out'), h, c, 4, { kernel: 3, padding: 1 });
  const d = op.sub(y, b.input('target', [batch, 4, 32, 32]));
  b.output('loss', op.mean(op.mul(d, d)));
  return { graph: b.build(), p };
}

async function oursNet(engine: Engine, rng: Rng): Promise<number> {
  const { graph, p } = smallNetLoss(4);
  const init = new Map<string, HostTensor>();
  for (const [k, s] of p.tree.shapes) {
    init.set(
      k,
      s.length === 1
        ? new HostTensor('float32', s, new Float32Array(numel(s)).fill(k.endsWith('weight') ? 1 : 0))
        : he(rng, k, s),
    );
  }
  const compiled = buildTrainStep({
    lossGraph: graph,
    trainable: [...p.tree.shapes.keys()],
    optimizer: { kind: 'adamw', hyper: { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 } },
  });
  const trainer = await Trainer.create(engine, compiled, init, { lr: constantLr(1e-4) });
  const feeds = {
    data: await engine.upload(rng.randn('data', [4, 4, 32, 32])),
    target: await engine.upload(rng.randn('target', [4, 4, 32, 32])),
  };
  return (await timeIt(() => trainer.runStep(feeds), { runs: 11 })).median;
}

export async function benchTrain(threads: number): Promise<void> {
  console.log(`# train benchmark — ${machineLine()}, ${threads} threads, float32, cpu provider`);
  const rng = new Rng(0);
  const engine = await Engine.create({ threads });
  resetPeak();
  const conv = await oursConv(engine, rng);
  const convMem = memoryFigures().vmHWM;
  resetPeak();
  const net = await oursNet(engine, rng);
  const netMem = memoryFigures().vmHWM;
  await engine.dispose();
  const torch = torchBaseline(threads);
  console.log('| case | ours | PyTorch 1.13 | ratio (ours/PyTorch) | VmHWM ours | VmHWM PyTorch |');
  console.log('|---|---|---|---|---|---|');
  const row = (name: string, key: 'conv' | 'net', ms: number, mem: number | undefined) => {
    recordFigure({
      suite: SUITE,
      case: name,
      ours: ms,
      peak: mem,
      ...(typeof torch === 'string'
        ? { baselineMissing: `PyTorch 1.13: ${torch}` }
        : { baseline: { name: 'PyTorch 1.13', value: torch[key].ms, peak: torch[key].vmhwm } }),
    });
    if (typeof torch === 'string') {
      console.log(`| ${name} | ${fmtMs(ms)} ms | skipped | – | ${gib(mem)} | – |`);
    } else {
      const t = torch[key];
      console.log(
        `| ${name} | ${fmtMs(ms)} ms | ${fmtMs(t.ms)} ms | ${(ms / t.ms).toFixed(2)}× | ${gib(mem)} | ${gib(t.vmhwm)} |`,
      );
    }
  };
  row('conv 3×3 320 ch 64×64, forward + backward', 'conv', conv, convMem);
  row('small conv + attention net, one AdamW step', 'net', net, netMem);
  if (typeof torch === 'string') console.log(`PyTorch baseline skipped: ${torch}`);
}
