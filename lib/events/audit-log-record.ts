import { inspect } from 'node:util';

/** The fields of one audit log line: an event, or the summary of the lines a budget dropped. */
export type AuditLogFields = Readonly<Record<string, string | number | boolean>>;

/**
 * What `SessionEvents` hands to the logger. An object, so that JSON loggers write the fields as
 * JSON (Nest's `ConsoleLogger({ json: true })` under `message`; pino and winston adapters at top
 * level) instead of a JSON string inside their own JSON. Nest's text logger would print a plain
 * object over several lines (`compact: false`); `inspect.custom` keeps it one line of JSON there,
 * and `toString` does the same for loggers that build a string from the message.
 */
export class AuditLogRecord {
  readonly [field: string]: unknown;

  constructor(fields: AuditLogFields) {
    Object.assign(this, fields);
  }

  toString(): string {
    return JSON.stringify(this);
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
