export * from './client';
export * from './errors';
export * from './contract';
export * from './framing';
export * from './protocol';
