export * from './denoisingError';
export * from './evaluate';
export * from './featureNet';
export * from './featureNetFiles';
export * from './fid';
export * from './lpips';
export * from './prdc';
export * from './quickFid';
