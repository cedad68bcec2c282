export * from './gaussian';
export * from './gmm';
export * from './groupNorm';
export * from './mnistTeacher';
export * from './silu';
export * from './toys';
export * from './unet';
