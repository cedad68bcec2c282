export * from './benchmark';
export * from './distilled';
export * from './peerBench';
export * from './quickstart';
export * from './quickstartPlots';
export * from './timestampTransfer';
export * from './toySolve';
