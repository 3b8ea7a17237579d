/**
 * A third-party ONNX model file run as it is (the PP-OCR text detector, user-supplied captioners), on the calling
 * thread with onnxruntime-node's CPU provider. The project's own graphs go through the {@link Engine} worker; a file
 * model is a fixed network that some analysis calls a few times per clip, so it needs no worker, resident weights or
 * graph cache. Errors name the file.
 */
import { access } from 'node:fs/promises';
import ort from 'onnxruntime-node';

/** A float32 tensor in and out of a file model. */
export interface FileModelTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** An int64 input (token ids, attention masks). */
export interface FileModelInt64Tensor {
  data: BigInt64Array;
  dims: readonly number[];
}

export interface OnnxFileModelOptions {
  /** Intra-op threads (default: onnxruntime's choice, one per core). */
  threads?: number;
}

export class OnnxFileModelError extends Error {
  override name = 'OnnxFileModelError';
}

export class OnnxFileModel {
  private constructor(
    readonly path: string,
    private readonly session: ort.InferenceSession,
  ) {}

  /** Loads `path`; a missing or unreadable file, or one that is not an ONNX model, is an {@link OnnxFileModelError}. */
  static async load(path: string, opts: OnnxFileModelOptions = {}): Promise<OnnxFileModel> {
    try {
      await access(path);
    } catch {
      throw new OnnxFileModelError(`model file ${path} does not exist or cannot be read`);
    }
    try {
      const session = await ort.InferenceSession.create(path, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      });
      return new OnnxFileModel(path, session);
    } catch (e) {
      throw new OnnxFileModelError(`${path} is not a loadable ONNX model: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * An input's declared element type and dimensions (a number, or a string / undefined for a symbolic one), or
   * undefined when the model does not say.
   */
  inputInfo(name: string): { type: string; dims: readonly (number | string | undefined)[] } | undefined {
    const m = this.session.inputMetadata?.find((x) => x.name === name);
    if (!m?.isTensor) return undefined;
    return { type: m.type, dims: m.shape };
  }

  /** Runs the model on float32 (or int64) inputs by name; returns every output as float32. */
  async run(feeds: Record<string, FileModelTensor | FileModelInt64Tensor>): Promise<Record<string, FileModelTensor>> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      inputs[name] =
        t.data instanceof BigInt64Array
          ? new ort.Tensor('int64', t.data, [...t.dims])
          : new ort.Tensor('float32', t.data, [...t.dims]);
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(inputs);
    } catch (e) {
      throw new OnnxFileModelError(`${this.path}: ${(e as Error).message.split('\n')[0]}`);
    }
    const result: Record<string, FileModelTensor> = {};
    for (const [name, v] of Object.entries(out)) {
      const t = v as ort.Tensor;
      if (t.type !== 'float32') throw new OnnxFileModelError(`${this.path}: output ${name} is ${t.type}, not float32`);
      result[name] = { data: t.data as Float32Array, dims: t.dims };
    }
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
