export * from './benchmark';
export * from './gpuCheck';
export * from './gpuNumerics';
export * from './kernelProfile';
export * from './peerBench';
