export * from './consistencyConfig';
export * from './consistencyDistillation';
export * from './consistencyImages';
export * from './consistencyModel';
export * from './consistencySampler';
