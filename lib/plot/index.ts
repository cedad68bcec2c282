export * from './display';
export * from './figure';
export * from './lineChart';
export * from './liveDisplay';
export * from './scatterChart';
export * from './svgCanvas';
export * from './svgToPng';
export * from './trainingView';
