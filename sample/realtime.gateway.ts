import { type OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Authenticated, CurrentUser, SessionSockets, type WsServerLike } from '../lib/index.js';
import { UsersService } from './users.service.js';

/**
 * `GET /ws`: the handshake needs a live session (access cookie from an allowed origin, or
 * `Authorization: Bearer`); the socket is closed with 4001 when that session ends.
 * Messages are `{"type": ...}` (see `RealtimeWsAdapter`).
 */
@WebSocketGateway({ path: '/ws' })
export class RealtimeGateway implements OnGatewayInit {
  constructor(
    private readonly sockets: SessionSockets,
    private readonly users: UsersService,
  ) {}

  afterInit(server: WsServerLike): void {
    this.sockets.protect(server);
  }

  @Authenticated()
  @SubscribeMessage('me')
  me(@CurrentUser() current: { id: string }) {
    return { type: 'me', user: this.users.byId(current.id) ?? { id: current.id, email: null, role: null } };
  }
}
