export * from './benchmark';
export * from './peerBench';
export * from './quickstart';
export * from './quickstartPlots';
export * from './toySolve';
