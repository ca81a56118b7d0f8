import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { parseItem, parseList, type Token } from 'structured-headers';
import request from 'supertest';
import { ALICE, CookieClient } from '../../utils/http.js';

/** A browser's device key, as Chromium keeps it: ES256 (P-256) or RS256 (RSA 2048). */
export class TestDevice {
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;

  constructor(readonly alg: 'ES256' | 'RS256' = 'ES256') {
    const pair =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicJwk = pair.publicKey.export({ format: 'jwk' });
  }

  /**
   * A `dbsc+jwt` proof for `jti`, as Chromium writes one: `jwk` in the header for a registration.
   * `header` overrides or adds header members (alg: none, another typ, crit …).
   */
  proof(
    jti: string,
    opts: { jwk?: boolean; authorization?: string; header?: Record<string, unknown>; signWith?: TestDevice } = {},
  ): string {
    const header = { alg: this.alg, typ: 'dbsc+jwt', ...(opts.jwk && { jwk: this.publicJwk }), ...opts.header };
    const payload = { jti, ...(opts.authorization !== undefined && { authorization: opts.authorization }) };
    const input = `${b64(header)}.${b64(payload)}`;
    const signer = opts.signWith ?? this;
    const signature =
      signer.alg === 'ES256'
        ? sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', Buffer.from(input), signer.privateKey);
    return `${input}.${signature.toString('base64url')}`;
  }
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The parts of a `Secure-Session-Registration` header, read with an RFC 9651 parser. */
export function parseRegistration(value: string): {
  algorithms: string[];
  path: string;
  challenge: string;
  authorization: string;
} {
  const [entry] = parseList(value);
  const [items, params] = entry as [Array<[Token, Map<string, unknown>]>, Map<string, unknown>];
  return {
    algorithms: items.map(([t]) => t.toString()),
    path: params.get('path') as string,
    challenge: params.get('challenge') as string,
    authorization: params.get('authorization') as string,
  };
}

/** The challenge and session identifier of a `Secure-Session-Challenge` header. */
export function parseChallenge(value: string): { challenge: string; id: string } {
  const [challenge, params] = parseItem(value);
  return { challenge: challenge as string, id: params.get('id') as string };
}

/** What Chromium does with DBSC, over supertest: log in, register the device key, refresh. */
export class DbscBrowser extends CookieClient {
  registration: ReturnType<typeof parseRegistration> | undefined;
  sessionIdentifier = '';
  instructions: Record<string, unknown> | undefined;

  constructor(
    url: string,
    readonly device = new TestDevice(),
  ) {
    super(url);
  }

  override async login(user = ALICE) {
    const res = await super.login(user);
    const header = res.headers['secure-session-registration'] as string | undefined;
    this.registration = header ? parseRegistration(header) : undefined;
    return res;
  }

  /** Posts the registration proof with the access cookie, as Chromium does right after the login answer. */
  async register(proof?: string) {
    const reg = this.registration;
    if (!reg) throw new Error('the login answer offered no DBSC registration');
    const res = await request(this.url)
      .post(reg.path)
      .set('Cookie', this.cookieHeader())
      .set(
        'Secure-Session-Response',
        proof ?? this.device.proof(reg.challenge, { jwk: true, authorization: reg.authorization }),
      );
    if (res.status === 200) {
      this.absorb(res);
      this.instructions = res.body as Record<string, unknown>;
      this.sessionIdentifier = this.instructions.session_identifier as string;
    }
    return res;
  }

  /** One request to the refresh endpoint, as Chromium sends it (values unquoted). */
  refreshRequest(proof?: string, id = this.sessionIdentifier) {
    const req = request(this.url).post('/auth/dbsc/refresh').set('Sec-Secure-Session-Id', id);
    if (this.access) req.set('Cookie', this.cookieHeader());
    return proof === undefined ? req : req.set('Secure-Session-Response', proof);
  }

  /** The whole refresh: 403 + challenge, then the signed proof. Returns both answers. */
  async dbscRefresh(device = this.device) {
    const first = await this.refreshRequest();
    const header = first.headers['secure-session-challenge'] as string | undefined;
    if (first.status !== 403 || !header) return { first, second: undefined };
    const second = await this.refreshRequest(device.proof(parseChallenge(header).challenge));
    if (second.status === 200) this.absorb(second);
    return { first, second };
  }
}
