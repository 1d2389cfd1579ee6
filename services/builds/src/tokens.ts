/** Injection token of the builds service's parsed config. */
export const BUILDS_CONFIG = Symbol('BUILDS_CONFIG');
