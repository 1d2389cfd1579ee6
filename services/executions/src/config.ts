import { serviceConfigSchema } from '@pipewright/platform';

/** The executions service's environment variables (validated at boot). */
export const configSchema = serviceConfigSchema;
export type Config = typeof configSchema._output;
