/** Wire names derived from the prefix (`NATS_PREFIX`, default `pw`). */
export interface BusNames {
  prefix: string;
  subject(name: string): string;
  eventsStream: string;
  commandsStream: string;
}

const PREFIX_RE = /^[A-Za-z0-9_-]+$/;

export function busNames(prefix: string): BusNames {
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(`NATS_PREFIX must be letters, digits, "_" or "-" (got "${prefix}")`);
  }
  const stream = prefix.toUpperCase().replace(/-/g, '_');
  return {
    prefix,
    subject: (name) => `${prefix}.${name}`,
    eventsStream: `${stream}_EVENTS`,
    commandsStream: `${stream}_COMMANDS`,
  };
}
