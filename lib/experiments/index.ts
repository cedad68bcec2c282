export * from './quickstart';
export * from './toySolve';
export * from './quickstartPlots';
