export * from './identity-signature';
export * from './jwt';
export * from './roles.guard';
