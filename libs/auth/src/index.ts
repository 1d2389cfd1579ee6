export * from './identity-signature';
export * from './jwt';
export * from './project-access';
export * from './roles.guard';
