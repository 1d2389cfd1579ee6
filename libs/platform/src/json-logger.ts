import type { LoggerService, LogLevel } from '@nestjs/common';

const ORDER: Record<string, number> = { debug: 10, verbose: 10, log: 20, info: 20, warn: 30, error: 40, fatal: 50 };
const NAME: Record<string, string> = { log: 'info', verbose: 'debug' };

/** One JSON object per line on stdout: time, level, service, context, msg and any fields given. */
export class JsonLogger implements LoggerService {
  private readonly min: number;

  constructor(
    private readonly service: string,
    level = 'info',
    private readonly out: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  ) {
    this.min = ORDER[level] ?? 20;
  }

  log(message: unknown, ...rest: unknown[]) { this.write('log', message, rest); }
  error(message: unknown, ...rest: unknown[]) { this.write('error', message, rest); }
  warn(message: unknown, ...rest: unknown[]) { this.write('warn', message, rest); }
  debug(message: unknown, ...rest: unknown[]) { this.write('debug', message, rest); }
  verbose(message: unknown, ...rest: unknown[]) { this.write('verbose', message, rest); }
  fatal(message: unknown, ...rest: unknown[]) { this.write('fatal', message, rest); }
  /** Levels come from LOG_LEVEL at construction; Nest's per-level list is not used. */
  setLogLevels(_levels: LogLevel[]) {
    return undefined;
  }

  private write(level: string, message: unknown, rest: unknown[]) {
    if ((ORDER[level] ?? 20) < this.min) return;
    // Nest passes the context last; an error's stack comes before it.
    const args = [...rest];
    const context = typeof args[args.length - 1] === 'string' ? (args.pop() as string) : undefined;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: NAME[level] ?? level, service: this.service };
    if (context) entry.context = context;
    if (message instanceof Error) {
      entry.msg = message.message;
      entry.stack = message.stack;
    } else if (message && typeof message === 'object') {
      Object.assign(entry, message);
      if ('message' in entry) {
        entry.msg = entry.message;
        delete entry.message;
      }
    } else {
      entry.msg = String(message);
    }
    const stack = args.find((a) => typeof a === 'string' && a.includes('\n    at '));
    if (stack) entry.stack = stack;
    this.out(JSON.stringify(entry));
  }
}
