/**
 * A bare HTTP/1.1 client over a socket, for requests Node's own client refuses to send (NUL and
 * other control bytes in headers, oversized headers, duplicated headers). Reads the status line
 * and headers of the answer; the connection is closed after one request.
 */
import { Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

export function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Array<[string, string | Buffer]>,
  body?: string | Buffer,
  timeoutMs = 5000,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const lines: Buffer[] = [
    Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`),
  ];
  for (const [name, value] of headers)
    lines.push(Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n')]));
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (body !== undefined) lines.push(Buffer.from(`Content-Length: ${payload.length}\r\n`));
  lines.push(Buffer.from('\r\n'), payload);

  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (m) {
        const split = text.indexOf('\r\n\r\n');
        resolve({
          status: Number(m[1]),
          headers: text.slice(0, split < 0 ? undefined : split),
          body: split < 0 ? '' : text.slice(split + 4),
        });
      } else {
        reject(err ?? new Error(`no HTTP answer (got ${JSON.stringify(text.slice(0, 80))})`));
      }
    };
    socket.setTimeout(timeoutMs, () => finish(new Error('timeout')));
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer (431/400) and close before it has read everything we send.
    socket.on('error', (err) => finish(err));
    socket.connect(Number(port), hostname, () => socket.write(Buffer.concat(lines)));
  });
}
