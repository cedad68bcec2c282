export * from './benchmark';
export * from './gpuCheck';
export * from './gpuNumerics';
export * from './peerBench';
