/** The SVD VideoUNet (sgm `sgm/modules/diffusionmodules/video_model.py::VideoUNet`) on the graph builder. */
export * from './config.ts';
export * from './layout.ts';
export type { CaptureFn } from './tap.ts';
export * from './video-unet.ts';
