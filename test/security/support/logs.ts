import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, to assert on what the app logged. */
export class CollectingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  private add(level: string, message: unknown): void {
    this.lines.push({ level, message: String(message) });
  }
  log(message: unknown): void {
    this.add('log', message);
  }
  error(message: unknown): void {
    this.add('error', message);
  }
  warn(message: unknown): void {
    this.add('warn', message);
  }
  debug(message: unknown): void {
    this.add('debug', message);
  }
  verbose(message: unknown): void {
    this.add('verbose', message);
  }
  matching(re: RegExp, level?: string): string[] {
    return this.lines.filter((l) => (!level || l.level === level) && re.test(l.message)).map((l) => l.message);
  }
}
