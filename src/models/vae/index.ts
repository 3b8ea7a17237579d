/** The SVD first stage (VAE): encoder, Gaussian posterior, image and temporal video decoders, chunked decoding. */
export * from './ae3d-conv.ts';
export * from './attn-block.ts';
export * from './autoencoder.ts';
export * from './chunked-decode.ts';
export * from './config.ts';
export * from './declarations.ts';
export * from './decoder.ts';
export * from './encoder.ts';
export * from './gaussian.ts';
export * from './resample.ts';
export * from './resnet-block.ts';
export * from './tap.ts';
export * from './video-decoder.ts';
export * from './video-res-block.ts';
