export * from './amed';
export * from './consistency';
export * from './progressiveDistillation';
export * from './progressiveMnist';
export * from './progressiveTargets';
export * from './progressiveToy';
