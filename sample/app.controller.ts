import { BadRequestException, Body, Controller, Get, Post, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  Authenticated,
  CurrentSession,
  CurrentUser,
  SessionHealthIndicator,
  type SessionPrincipal,
} from '../lib/index.js';
import { UsersService } from './users.service.js';

@Controller()
export class AppController {
  private readonly notes = new Map<string, Array<{ id: number; text: string }>>();
  private nextNoteId = 1;

  constructor(
    private readonly users: UsersService,
    private readonly health: SessionHealthIndicator,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get('me')
  @Authenticated()
  me(@CurrentSession() session: SessionPrincipal) {
    const user = this.users.byId(session.userId) ?? { id: session.userId, email: null, role: null };
    return session.impersonator ? { ...user, impersonator: { id: session.impersonator.id } } : user;
  }

  @Post('notes')
  @Authenticated()
  addNote(@CurrentUser() current: { id: string }, @Body() body: unknown) {
    const text = typeof body === 'object' && body !== null ? (body as { text?: unknown }).text : undefined;
    if (typeof text !== 'string' || text.length === 0 || text.length > 1000) {
      throw new BadRequestException('Body must be {"text": string of 1-1000 characters}');
    }
    const note = { id: this.nextNoteId++, text };
    const list = this.notes.get(current.id) ?? [];
    list.push(note);
    this.notes.set(current.id, list.slice(-100));
    return note;
  }

  @Get('admin/stats')
  @Authenticated({ roles: ['admin'] })
  stats() {
    let notes = 0;
    for (const list of this.notes.values()) notes += list.length;
    return { users: this.notes.size, notes };
  }

  @Get('health')
  async healthCheck(@Res({ passthrough: true }) res: { status(code: number): unknown }) {
    const h = await this.health.check();
    if (h.status !== 'up') res.status(503);
    // The platform that really serves the request (`express` | `fastify`), not what the environment asked for.
    const adapter = this.adapterHost.httpAdapter.getType();
    return {
      status: h.status === 'up' ? 'ok' : 'unavailable',
      store: h.store,
      adapter,
      ...(h.redisClient && { redisClient: h.redisClient }),
    };
  }
}
