import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import sirv from 'sirv';
import { systemShutdownStarted, z } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { installRoot } from '../../config/install-root';
import { Listens } from '../../events/handles.decorator';
import { StartupError } from '../../lifecycle/startup-failure';
import { DAEMON_LOG } from '../../logging/logger';
import { DashboardAccess } from './dashboard-access';
import { DashboardGateway } from './dashboard-gateway';

/** What `npm run build` puts together from web/dashboard. */
const STATIC_DIR = path.join(installRoot(), 'dist', 'dashboard');

const requestBody = z.object({
  event: z.string().min(1, 'event must name an event, e.g. agent:list'),
  data: z.record(z.string(), z.unknown()).default({}),
  read: z.boolean().default(false).describe('The page reloading a panel: left out of its event stream'),
});

/**
 * Events that bind the connection they arrive on (its identity, its subscriptions): the page's requests
 * share the gateway's connections, where an identity would apply to everyone's and pushes are not read.
 */
const CONNECTION_EVENTS = new Set(['system:identify', 'mcp:session_start', 'monitor:subscribe', 'monitor:unsubscribe', 'message:subscribe', 'message:unsubscribe', 'approval:subscribe']);

type Route = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/**
 * The web dashboard, served by the daemon on KSI_HTTP_HOST:KSI_HTTP_PORT (loopback by default) when
 * the port is set: the page built from web/dashboard, `GET /api/stream` (server-sent events: every
 * event, as monitor:subscribe streams them) and `POST /api/request` (`{event, data}`: the reply line,
 * as the socket answers it).
 */
@Injectable()
export class DashboardServer implements OnApplicationBootstrap, OnModuleDestroy {
  private server?: Server;
  private access?: DashboardAccess;
  private gateway?: DashboardGateway;
  private files?: ReturnType<typeof sirv>;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
  ) {}

  /** The address to open, with the token; undefined when the dashboard is off. */
  get url(): string | undefined {
    const settings = this.config.dashboard;
    if (!settings || !this.access) return undefined;
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    return `http://${host}:${this.access.port}/?token=${this.access.token}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    const settings = this.config.dashboard;
    if (!settings) return;
    if (!existsSync(path.join(STATIC_DIR, 'index.html'))) throw new StartupError(`KSI daemon cannot start: the dashboard's page is not built (${STATIC_DIR}); run npm run build, or leave KSI_HTTP_PORT unset`);
    const server = createServer((request, response) =>
      this.handle(request, response).catch((error: Error) => {
        this.log.error({ err: error.stack ?? error.message, url: request.url }, 'dashboard request failed');
        refuse(response, 500, 'internal_error', 'The dashboard failed to answer; the daemon log says why');
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const refused = (error: NodeJS.ErrnoException) =>
        reject(new StartupError(`KSI daemon cannot start: the dashboard cannot listen on ${settings.host}:${settings.port} (${error.code ?? error.message}); set KSI_HTTP_PORT to a free port, or leave it unset`));
      server.once('error', refused);
      server.listen(settings.port, settings.host, () => {
        server.off('error', refused);
        resolve();
      });
    });
    server.on('error', (error: Error) => this.log.error({ err: error.message }, 'dashboard server error'));
    this.server = server;
    this.access = new DashboardAccess(settings.tokenFile, settings.host, (server.address() as AddressInfo).port);
    this.gateway = new DashboardGateway(this.config.socketPath);
    this.files = sirv(STATIC_DIR, { etag: true });
    this.log.info({ host: settings.host, port: this.access.port }, 'dashboard listening (ksi dashboard prints its address)');
  }

  /** Open pages lose their streams as the daemon begins to stop, so their connections do not hold it up. */
  @Listens(systemShutdownStarted)
  async close(): Promise<void> {
    const { server, gateway } = this;
    if (!server) return;
    // New requests get 503 from here; then the open streams end and the gateway's connections close.
    this.server = this.access = this.gateway = this.files = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    await gateway?.close();
    server.closeAllConnections();
    await closed;
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const access = this.access;
    const gateway = this.gateway;
    const files = this.files;
    if (!access || !gateway || !files) return refuse(response, 503, 'stopping', 'The daemon is stopping', request);
    if (!access.hostAllowed(request)) return refuse(response, 403, 'host_refused', `The dashboard answers only to its own address (Host: ${request.headers.host ?? 'none'})`, request);
    if (!access.originAllowed(request)) return refuse(response, 403, 'origin_refused', `Requests from other sites are refused (Origin: ${request.headers.origin})`, request);
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://dashboard');
    } catch {
      return refuse(response, 400, 'invalid_url', `Not a path: ${request.url}`, request);
    }
    const token = url.searchParams.get('token');
    if (token !== null) {
      if (!access.matches(token)) return refuse(response, 401, 'unauthorized', 'This token is not the dashboard\'s: run `ksi dashboard` for the current address', request);
      // The token leaves the address bar at once; the cookie carries it from here.
      url.searchParams.delete('token');
      // One leading slash: `//host` would send the browser to another site.
      response.writeHead(303, { location: `/${url.pathname.replace(/^\/+/, '')}${url.search}`, 'set-cookie': access.cookie(), 'cache-control': 'no-store' }).end();
      return;
    }
    if (!access.hasCookie(request)) return refuse(response, 401, 'unauthorized', 'Open the address `ksi dashboard` prints: it carries the access token', request);
    const route = this.routes(gateway)[`${request.method} ${url.pathname}`];
    if (route) return route(request, response);
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'method_not_allowed', `${request.method} ${url.pathname} is not served`, request);
    files(request, response, () => refuse(response, 404, 'not_found', `${url.pathname} is not part of the dashboard`, request));
  }

  private routes(gateway: DashboardGateway): Record<string, Route> {
    return {
      'GET /api/stream': (request, response) => gateway.stream(request, response),
      'POST /api/request': (request, response) => this.forward(gateway, request, response),
    };
  }

  private async forward(gateway: DashboardGateway, request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return refuse(response, 415, 'unsupported_media_type', 'Send the request as application/json');
    let text: string;
    try {
      text = await readBody(request, this.config.maxLineBytes);
    } catch {
      return refuse(response, 413, 'line_too_long', `A request may be at most ${this.config.maxLineBytes} bytes (KSI_MAX_LINE_BYTES)`);
    }
    let parsed: z.output<typeof requestBody>;
    try {
      const result = requestBody.safeParse(JSON.parse(text));
      if (!result.success) return refuse(response, 400, 'invalid_request', `${result.error.issues[0].path.join('.') || 'body'}: ${result.error.issues[0].message}`);
      parsed = result.data;
    } catch (error) {
      return refuse(response, 400, 'invalid_json', `The body is not JSON: ${(error as Error).message}`);
    }
    if (CONNECTION_EVENTS.has(parsed.event)) return refuse(response, 400, 'connection_event', `${parsed.event} changes the connection it is sent on, and the dashboard's is shared: use the socket (ksi send) for it`);
    try {
      const reply = await gateway.request(parsed.event, parsed.data, parsed.read);
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(reply));
    } catch (error) {
      refuse(response, 503, 'daemon_unreachable', (error as Error).message);
    }
  }
}

/** `{error, code}` as the socket words it; a page a browser navigates to gets the sentence as a page. */
function refuse(response: ServerResponse, status: number, code: string, error: string, request?: IncomingMessage): void {
  if (response.headersSent) return void response.end();
  if (request?.headers.accept?.includes('text/html')) {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(`<!doctype html><title>KSI</title><p>${escapeHtml(error)}</p>`);
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ error, code }));
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);

/** The whole body, refused past `limit` bytes so that a huge POST cannot fill the daemon's memory. */
function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped, so that the refusal can still be answered.
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      chunks.length = 0;
      reject(new Error('too large'));
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
