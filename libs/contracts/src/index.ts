export * from './define';
export * from './environments';
export * from './roles';
export * from './subjects';
export * from './validation';
