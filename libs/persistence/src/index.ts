export * from './data-source';
export * from './outbox.entity';
export * from './outbox.migration';
export * from './outbox.writer';
