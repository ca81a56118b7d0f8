import { Injectable } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import type { WebSocketServer } from 'ws';

/** The sample's messages are `{"type":"me"}`; Nest's WsAdapter routes by `event`. */
function parseMessage(data: unknown): { event: string; data: unknown } | undefined {
  try {
    const m = JSON.parse(String(data)) as { type?: unknown };
    return m && typeof m.type === 'string' ? { event: m.type, data: m } : undefined;
  } catch {
    return undefined;
  }
}

/** `ws` on the app's own HTTP server (Express or Fastify), resolved when the gateway is created. */
class RealtimeWsAdapter extends WsAdapter {
  constructor(private readonly host: HttpAdapterHost) {
    super(undefined, { messageParser: parseMessage });
  }

  override create(port: number, options: Record<string, unknown> & { path?: string }): WebSocketServer {
    // The HTTP server exists only once the app does, after this adapter was made.
    (this as unknown as { httpServer: unknown }).httpServer ??= this.host.httpAdapter.getHttpServer();
    return super.create(port, options) as WebSocketServer;
  }
}

/**
 * Installs the sample's WebSocket adapter unless the app set one (`app.useWebSocketAdapter`), so
 * every way of starting the sample (main.ts, tests, Express, Fastify) serves `GET /ws` alike.
 */
@Injectable()
export class RealtimeWsAdapterSetup {
  constructor(config: ApplicationConfig, host: HttpAdapterHost) {
    if (!config.getIoAdapter()) config.setIoAdapter(new RealtimeWsAdapter(host));
  }
}
