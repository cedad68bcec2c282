export * from './gaussian';
export * from './gmm';
export * from './toys';
