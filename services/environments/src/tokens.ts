/** Injection tokens of the environments service. */
export const SECRET_BOX = Symbol('SECRET_BOX');
export const ENVIRONMENTS_CONFIG = Symbol('ENVIRONMENTS_CONFIG');
