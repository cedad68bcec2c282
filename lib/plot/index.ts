export * from './display';
export * from './figure';
export * from './lineChart';
export * from './scatterChart';
export * from './svgCanvas';
export * from './svgToPng';
