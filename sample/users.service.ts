import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { Injectable, type OnModuleInit } from '@nestjs/common';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** A demo user; a real app keeps these in its database. */
export interface DemoUser {
  id: string;
  email: string;
  role: 'user' | 'admin';
}

const DEMO: Array<DemoUser & { password: string }> = [
  { id: 'u-alice', email: 'alice@example.com', role: 'user', password: 'alice-password-123' },
  { id: 'u-bob', email: 'bob@example.com', role: 'user', password: 'bob-password-123' },
  { id: 'u-admin', email: 'admin@example.com', role: 'admin', password: 'admin-password-123' },
];

/** Demo users with scrypt password hashes made at startup, compared in constant time. */
@Injectable()
export class UsersService implements OnModuleInit {
  private readonly users = new Map<string, { user: DemoUser; salt: Buffer; hash: Buffer }>();
  /** Compared against when the email is unknown, so both failures cost the same. */
  private dummy: { salt: Buffer; hash: Buffer } = { salt: randomBytes(16), hash: Buffer.alloc(32) };

  async onModuleInit(): Promise<void> {
    for (const { password, ...user } of DEMO) {
      const salt = randomBytes(16);
      this.users.set(user.email, { user, salt, hash: await scryptAsync(password, salt, 32) });
    }
    this.dummy = {
      salt: randomBytes(16),
      hash: await scryptAsync(randomBytes(16).toString('hex'), randomBytes(16), 32),
    };
  }

  async verify(email: string, password: string): Promise<DemoUser | null> {
    const entry = this.users.get(email.toLowerCase());
    const { salt, hash } = entry ?? this.dummy;
    const candidate = await scryptAsync(password, salt, 32);
    const ok = timingSafeEqual(candidate, hash);
    return ok && entry ? entry.user : null;
  }

  /** Like `verify`, for a signed-in user (re-authentication, password change). */
  async verifyById(id: string, password: string): Promise<boolean> {
    const email = this.byId(id)?.email;
    return email !== undefined && (await this.verify(email, password)) !== null;
  }

  /** Changes a demo user's password (in memory, for this process). */
  async setPassword(id: string, password: string): Promise<void> {
    const email = this.byId(id)?.email;
    if (email === undefined) return;
    const salt = randomBytes(16);
    this.users.set(email, { user: this.users.get(email)!.user, salt, hash: await scryptAsync(password, salt, 32) });
  }

  byId(id: string): DemoUser | undefined {
    for (const { user } of this.users.values()) if (user.id === id) return user;
    return undefined;
  }
}
