/**
 * Nest's own JSON logger (`new ConsoleLogger({ json: true })`) with its stdout captured: what an
 * app that logs JSON really prints, one record per line.
 */
import { jest } from '@jest/globals';
import { ConsoleLogger } from '@nestjs/common';

/** One record of Nest's JSON logger: its own fields, and the logged message as given. */
export interface JsonLogRecord {
  level: string;
  pid: number;
  timestamp: number;
  context?: string;
  message: unknown;
}

export class JsonLogCapture {
  readonly logger = new ConsoleLogger({ json: true });
  /** Every line written to stdout while capturing, without its newline. */
  readonly lines: string[] = [];
  private spy: { mockRestore(): void } | undefined;

  start(): void {
    this.spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      this.lines.push(...text.split('\n').filter((l) => l !== ''));
      return true;
    });
  }

  stop(): void {
    this.spy?.mockRestore();
    this.spy = undefined;
  }

  /** Each line parsed; throws on a line that is not one JSON object. */
  records(): JsonLogRecord[] {
    return this.lines.map((line) => {
      const record = JSON.parse(line) as unknown;
      if (typeof record !== 'object' || record === null || Array.isArray(record))
        throw new Error(`not a JSON object: ${line}`);
      return record as JsonLogRecord;
    });
  }

  /** The records the module's audit log wrote. */
  audit(): JsonLogRecord[] {
    return this.records().filter((r) => r.context === 'SessionAudit');
  }
}
