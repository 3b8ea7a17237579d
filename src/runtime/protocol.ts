/** Messages between the engine (main thread) and the engine worker (DESIGN.md decision 6). */
import type { ElementwiseKernel } from '../graph/elementwise-kernel.ts';
import type { DType } from '../tensor/dtype.ts';
import type { Shape } from '../tensor/shape.ts';

export type Provider = 'cpu' | 'webgpu' | 'cuda';

export interface WireTensor {
  name: string;
  dtype: DType;
  shape: Shape;
  /** The elements; an ArrayBuffer (transferred or copied) or a SharedArrayBuffer (copied in the worker). */
  data: ArrayBufferView;
  /** The buffer was transferred from the engine's pool: hand it back after the run. */
  pooled?: boolean;
}

export interface InitRequest {
  type: 'init';
  provider: Provider;
  threads: number;
  cacheSize: number;
  saveOnnxDir?: string;
  /** ORT's CPU memory arena (keeps freed blocks per session for reuse). */
  memoryArena: boolean;
  /** ORT's intra-op thread pool spins while waiting for work (ORT's default); false makes idle threads block. */
  spinning: boolean;
  /** ORT profiling: every new session writes its node timings under this folder (see EngineOptions.profileDir). */
  profileDir?: string;
  logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
}

export interface SetWeightsRequest {
  type: 'setWeights';
  weights: WireTensor[];
}

export interface DeleteWeightsRequest {
  type: 'deleteWeights';
  names: string[];
}

/** A tensor kept in the worker between calls (no copy per call), by id. */
export interface ResidentRef {
  residentId: number;
}

export interface UploadRequest {
  type: 'upload';
  residentId: number;
  tensor: WireTensor;
}

export interface DownloadRequest {
  type: 'download';
  residentId: number;
}

export interface FreeRequest {
  type: 'free';
  residentIds: number[];
}

export interface RunRequest {
  type: 'run';
  /** sha256 of the ONNX bytes. */
  hash: string;
  graphName: string;
  /** The ONNX model, sent the first time a hash is seen by the worker (or after it was evicted). */
  model?: Uint8Array;
  feeds: WireTensor[];
  /** Feeds already resident in the worker: input name → resident id. */
  residentFeeds: { name: string; residentId: number }[];
  weightNames: string[];
  outputNames: string[];
  /** Overrides the engine's memory-arena setting for this graph's session (part of the session's cache key). */
  memoryArena?: boolean;
  /** Outputs to keep in the worker under these resident ids instead of sending them back. */
  keepOutputs: { name: string; residentId: number }[];
}

/**
 * Runs a fused elementwise kernel (graph/elementwise-kernel.ts) in place over resident float32 tensors: one call per
 * group, each group's tensors in the order of the kernel's element inputs.
 */
export interface KernelRequest {
  type: 'kernel';
  /** The kernel; the worker compiles each distinct one once. */
  kernel: ElementwiseKernel;
  groups: number[][];
  scalars: number[];
}

export interface StatsRequest {
  type: 'stats';
}

export interface ClearCacheRequest {
  type: 'clearCache';
}

/** Ends ORT profiling of every cached session: each writes its JSON profile into the profile folder. */
export interface EndProfilingRequest {
  type: 'endProfiling';
}

/** Drops the sessions of these model hashes (e.g. a pipeline stage that is done), freeing their memory. */
export interface ReleaseRequest {
  type: 'release';
  hashes: string[];
}

/**
 * Sent (without an id's reply) by a dispose while a request is in flight: after that request the worker releases its
 * sessions and tensors and closes its port, so its thread ends without being terminated inside a native call.
 */
export interface ShutdownRequest {
  type: 'shutdown';
}

export type Request = (
  | InitRequest
  | SetWeightsRequest
  | DeleteWeightsRequest
  | UploadRequest
  | DownloadRequest
  | FreeRequest
  | RunRequest
  | KernelRequest
  | StatsRequest
  | ClearCacheRequest
  | ReleaseRequest
  | EndProfilingRequest
  | ShutdownRequest
) & {
  id: number;
};

export interface RunReply {
  outputs: WireTensor[];
  /** Hashes whose sessions the worker dropped (LRU); the engine must resend their models. */
  evicted: string[];
  /** True when the worker had no session for the hash and no model was sent. */
  needModel?: boolean;
  sessionCreated: boolean;
  ms: { session: number; run: number };
  /** Feed buffers handed back to the engine's pool (transferred). */
  returned: ArrayBuffer[];
}

export interface StatsReply {
  sessions: number;
  weights: number;
  resident: number;
  weightBytes: number;
  providers: string[];
}

export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string } };
