export * from './define';
export * from './environments';
export * from './executions';
export * from './pipelines';
export * from './roles';
export * from './subjects';
export * from './validation';
export * from './stages';
