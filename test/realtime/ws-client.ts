import WebSocket from 'ws';

/** A real `ws` client socket and what became of it. */
export interface TestSocket {
  ws: WebSocket;
  /** Resolves when the server closed it: code and the time (performance.now()) it was seen. */
  closed: Promise<{ code: number; reason: string; at: number }>;
  /** Sends `{"type":"me"}` and resolves to the answer. */
  me(): Promise<{ type: string; user: { id: string; email: string; role: string } }>;
}

export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws') + '/ws';
}

/**
 * Opens `/ws` with these handshake headers. Resolves once open; rejects with the HTTP status when
 * the upgrade is refused (`Error` with `status`).
 */
export function openSocket(httpUrl: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(httpUrl), { headers });
    const closed = new Promise<{ code: number; reason: string; at: number }>((done) =>
      ws.once('close', (code, reason) => done({ code, reason: reason.toString(), at: performance.now() })),
    );
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
    });
    ws.once('error', (err) => reject(err));
    ws.once('open', () =>
      resolve({
        ws,
        closed,
        me: () =>
          new Promise((answer, fail) => {
            ws.once('message', (data: Buffer) => answer(JSON.parse(data.toString()) as never));
            ws.once('close', () => fail(new Error('closed before answering')));
            ws.send(JSON.stringify({ type: 'me' }));
          }),
      }),
    );
  });
}

/** The HTTP status an upgrade was refused with (fails the test if it opened). */
export async function refusedStatus(httpUrl: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const s = await openSocket(httpUrl, headers);
    s.ws.terminate();
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status !== undefined) return status;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}

/** Resolves with the close, or rejects when the socket is still open after `ms`. */
export async function closedWithin(
  socket: TestSocket,
  ms: number,
): Promise<{ code: number; reason: string; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([socket.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
