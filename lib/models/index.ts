export * from './gaussian';
export * from './gmm';
export * from './groupNorm';
export * from './mnistTeacher';
export * from './silu';
export * from './toyMlp';
export * from './toys';
export * from './unet';
