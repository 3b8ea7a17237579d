/**
 * The unconditional branch of classifier-free guidance for image-to-video: the reference samples with
 * `force_uc_zero_embeddings = ["cond_frames", "cond_frames_without_noise"]`, so `crossattn` and `concat` are zeros and
 * `vector` (the micro-conditions) is kept (svd-spec.md §7 item 2).
 */
import { HostTensor } from '../tensor/host-tensor.ts';

/** uc from c: zeros for crossattn and concat, the same vector. */
export function unconditional(c: Readonly<Record<string, HostTensor>>): Record<string, HostTensor> {
  const uc: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(c)) {
    uc[k] = k === 'crossattn' || k === 'concat' ? HostTensor.zeros('float32', t.shape) : t;
  }
  return uc;
}
