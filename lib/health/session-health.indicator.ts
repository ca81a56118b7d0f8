import { Injectable } from '@nestjs/common';
import { SessionService } from '../session.service.js';

/** Store health, in the shape `@nestjs/terminus` indicators return. */
export interface SessionHealth {
  status: 'up' | 'down';
  store: string;
}

/**
 * Reports whether the session store answers. Use it from a health route, or wrap it in a
 * `@nestjs/terminus` `HealthIndicatorService` check.
 * @publicApi
 */
@Injectable()
export class SessionHealthIndicator {
  constructor(private readonly sessions: SessionService) {}

  async check(): Promise<SessionHealth> {
    try {
      await this.sessions.ping();
      return { status: 'up', store: this.sessions.storeKind };
    } catch {
      return { status: 'down', store: this.sessions.storeKind };
    }
  }
}
