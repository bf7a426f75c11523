import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Structured logs (pino). Components take a child logger: `log.child({ component: 'broker' })`.
 * Secrets never reach a log line: the redact list covers every field that may hold one.
 */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'gateway' },
      redact: {
        paths: ['token', 'key', 'password', '*.token', '*.key', '*.password', 'req.headers.authorization'],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
