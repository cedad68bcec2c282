/** AMED-Plugin (Zhou et al. 2024) on iPNDM: every AMED module by name, for `lib/baselines/index.ts`. */
export * from './amedConfig';
export * from './amedModel';
export * from './amedPlugin';
export * from './amedPredictor';
export * from './amedSampler';
export * from './amedTeacher';
export * from './amedTrain';
export * from './amedTraining';
export * from './amedWalk';
