export * from './message-bus';
export * from './messaging.module';
export * from './names';
export * from './outbox-relay';
