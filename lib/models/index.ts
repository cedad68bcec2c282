export * from './gaussian';
export * from './gmm';
export * from './groupNorm';
export * from './silu';
export * from './toys';
export * from './unet';
