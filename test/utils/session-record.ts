/**
 * Finds a session's packed record in a test Redis by its id (issue 16 layout: under
 * `{user}:s:<sid>`, or in the user key `{user}:x` when it is the user's only session).
 */
import { type DecodedRecord, decodeRecord, encodeRecord } from '../../lib/repository/redis-record.js';

interface Raw {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface FoundRecord {
  key: string;
  record: DecodedRecord;
  /** Writes `record` back, TTL kept (to simulate an older record, e.g. one without a field). */
  save(record: DecodedRecord): Promise<void>;
}

export async function findSessionRecord(raw: Raw, prefix: string, sid: string): Promise<FoundRecord> {
  const own = (await raw.sendCommand(['KEYS', `${prefix}*:s:${sid}`])) as string[];
  const users = (await raw.sendCommand(['KEYS', `${prefix}*:x`])) as string[];
  for (const key of [...own, ...users]) {
    if ((await raw.sendCommand(['TYPE', key])) !== 'string') continue;
    const record = decodeRecord(String(await raw.sendCommand(['GET', key])));
    if (record === null) continue;
    if (own.includes(key) || record.id === sid) {
      return {
        key,
        record,
        save: async (r) => {
          await raw.sendCommand(['SET', key, encodeRecord(r), 'KEEPTTL']);
        },
      };
    }
  }
  throw new Error(`no session record for ${sid} under ${prefix}`);
}
