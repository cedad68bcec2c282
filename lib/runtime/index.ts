export * from './backend';
export * from './paths';
export * from './profile';
