export * from './database';
export * from './git';
export * from './kube';
export * from './nats';
export * from './platform';
export * from './processes';
export * from './test-env';
export * from './wait';
