export * from './benchmark';
export * from './quickstart';
export * from './quickstartPlots';
export * from './toySolve';
