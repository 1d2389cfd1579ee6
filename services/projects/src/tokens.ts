/** Injection tokens of the projects service. */
export const PROJECTS_CONFIG = Symbol('PROJECTS_CONFIG');
