export * from './data/index';
export * from './diffusion/index';
export * from './experiments/index';
export * from './models/index';
export * from './plot/index';
export * from './runtime/index';
export * from './util/rng';
