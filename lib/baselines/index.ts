export * from './progressiveDistillation';
export * from './progressiveMnist';
export * from './progressiveTargets';
export * from './progressiveToy';
