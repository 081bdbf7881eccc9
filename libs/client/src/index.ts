export * from './client';
export * from './errors';
export * from './events';
export * from './framing';
export * from './protocol';
