export * from './adam';
export * from './checkpoint';
export * from './edmLoss';
export * from './ema';
export * from './features';
export * from './lrSchedule';
export * from './namedGrads';
export * from './teacher';
