export * from './define';
export * from './roles';
export * from './subjects';
export * from './validation';
