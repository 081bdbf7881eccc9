import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';

/** Hosts that name this machine's loopback interface. */
const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Who may use the dashboard: whoever holds the token the daemon wrote (0600) into its var dir. The
 * URL carries it once; the page then keeps it in an HttpOnly, SameSite=Strict cookie. The Host header
 * must name the dashboard's own address, so a web page whose DNS name is rebound to 127.0.0.1 is
 * refused; a request from another site's page (Origin) is refused too.
 */
export class DashboardAccess {
  readonly token = randomBytes(32).toString('base64url');
  private readonly hosts: Set<string>;
  private readonly cookieName: string;

  constructor(
    tokenFile: string,
    bindHost: string,
    readonly port: number,
  ) {
    writeFileSync(tokenFile, `${this.token}\n`, { mode: 0o600 });
    const names = new Set([...LOOPBACK, bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost]);
    this.hosts = new Set([...names].map((name) => `${name}:${port}`.toLowerCase()));
    // Cookies are per host, not per port: each daemon's has its own name.
    this.cookieName = `ksi_dashboard_${port}`;
  }

  hostAllowed(request: IncomingMessage): boolean {
    return this.hosts.has((request.headers.host ?? '').toLowerCase());
  }

  /** A request with no Origin is a navigation or a same-origin GET; one with an Origin must be this dashboard's. */
  originAllowed(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return true;
    try {
      const url = new URL(origin);
      return url.protocol === 'http:' && this.hosts.has(url.host.toLowerCase());
    } catch {
      return false;
    }
  }

  matches(candidate: string | undefined): boolean {
    if (candidate === undefined) return false;
    const given = Buffer.from(candidate);
    const expected = Buffer.from(this.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  hasCookie(request: IncomingMessage): boolean {
    return this.matches(parseCookie(request.headers.cookie ?? '')[this.cookieName]);
  }

  cookie(): string {
    return serializeCookie(this.cookieName, this.token, { httpOnly: true, sameSite: 'strict', path: '/' });
  }
}
