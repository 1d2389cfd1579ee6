export * from './data-source';
export * from './outbox.entity';
export * from './outbox.migration';
export * from './outbox.writer';
export * from './message-table';
export * from './pg-listener';
export * from './wake-loop';
export * from './work-queue';
