import * as fs from 'node:fs';
import * as http from 'node:http';
import type { KsiClient } from '../libs/client/src';
import { fakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';
import { ksi } from './support/ksi-cli';
import { RawConnection } from './support/raw-connection';

/** The dashboard's HTTP side, as any HTTP client sees it: access, refusals and the gateway to the socket. */
/** A GET as node:http sends it: the Host and path exactly as given. */
function rawGet(path: string, headers: Record<string, string>, target = dashboardAddress): Promise<{ status?: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: target.hostname, port: target.port, path, headers }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body, location: response.headers.location }));
      })
      .on('error', reject);
  });
}
let dashboardAddress: URL;

describe('the web dashboard over HTTP', () => {
  const daemon = fakeClaudeDaemon({ env: { KSI_HTTP_PORT: '0' } });
  let client: KsiClient;
  let url: URL;
  let cookie: string;
  const origin = () => `http://${url.host}`;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${origin()}/api/request`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, ...headers }, body });

  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
    const dashboard = (await client.sendSingle('monitor:dashboard')) as { enabled: boolean; url: string };
    expect(dashboard.enabled).toBe(true);
    url = dashboardAddress = new URL(dashboard.url);
    const entry = await fetch(url, { redirect: 'manual' });
    expect(entry.status).toBe(303);
    expect(entry.headers.get('location')).toBe('/');
    const setCookie = entry.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    cookie = setCookie.split(';')[0];
  });
  afterAll(async () => {
    await client?.close();
    await daemon.dispose();
  });

  it('listens on loopback and keeps its token in a file only its user can read', () => {
    expect(url.hostname).toBe('127.0.0.1');
    const tokenFile = `${daemon.varDir}/run/dashboard.token`;
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(tokenFile, 'utf8').trim()).toBe(url.searchParams.get('token'));
  });

  it('answers 401 without the token or its cookie, and with a wrong one', async () => {
    for (const path of ['/', '/api/stream', '/assets/anything.js']) expect((await fetch(`${origin()}${path}`)).status).toBe(401);
    const refused = await fetch(`${origin()}/api/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"event":"agent:list"}' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ code: 'unauthorized', error: expect.stringContaining('ksi dashboard') });
    expect((await fetch(`${origin()}/?token=not-the-token`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${origin()}/`, { headers: { cookie: `${cookie.split('=')[0]}=not-the-token` } })).status).toBe(401);
  });

  it('serves the page built from web/dashboard to the cookie', async () => {
    const page = await fetch(`${origin()}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${origin()}${script}`, { headers: { cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
  });

  it('refuses a Host header that is not its own (DNS rebinding) and requests from other sites', async () => {
    // fetch sets Host itself: node:http sends the one a rebound DNS name would carry.
    const rebound = await rawGet('/', { cookie, host: `attacker.example:${url.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'host_refused' });
    const crossSite = await post('{"event":"agent:list"}', { origin: 'http://attacker.example' });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ code: 'origin_refused' });
  });

  it('answers a path that is no URL with 400, and never redirects to another site', async () => {
    const broken = await rawGet('//[', { cookie });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body)).toMatchObject({ code: 'invalid_url' });
    const sneaky = await rawGet(`/.//attacker.example/?token=${url.searchParams.get('token')}`, {});
    expect(sneaky).toMatchObject({ status: 303, location: '/attacker.example/' });
  });

  it('refuses events that would change its shared connection (an identity, a subscription)', async () => {
    for (const event of ['system:identify', 'monitor:subscribe', 'message:subscribe', 'approval:subscribe']) {
      const refused = await post(JSON.stringify({ event, data: {} }));
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ code: 'connection_event', error: expect.stringContaining(event) });
    }
  });

  it('closes the connection behind each event stream when its page goes away', async () => {
    const connections = async () => ((await client.sendSingle('system:health')) as { connections: number }).connections;
    const before = await connections();
    const pages = [new AbortController(), new AbortController(), new AbortController()];
    for (const page of pages) {
      const response = await fetch(`${origin()}/api/stream`, { headers: { cookie }, signal: page.signal });
      const reader = response.body!.getReader();
      let received = '';
      while (!received.includes('event: ready')) received += Buffer.from((await reader.read()).value!).toString('utf8');
    }
    expect(await connections()).toBe(before + 3);
    for (const page of pages) page.abort();
    await eventually(async () => (await connections()) === before, 10_000, 'the streams’ connections closed');
  });

  it('forwards a request to the socket and answers with its reply line', async () => {
    await client.sendSingle('state:set', { key: 'dashboard-check', value: { seen: true } });
    const response = await post(JSON.stringify({ event: 'state:get', data: { key: 'dashboard-check' } }), { origin: origin() });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ event: 'state:get', data: { key: 'dashboard-check', value: { seen: true } } });
    // A request the daemon refuses comes back as the socket words it.
    expect(await (await post(JSON.stringify({ event: 'state:get', data: {} }))).json()).toMatchObject({ code: 'invalid_params' });
  });

  it('refuses a malformed body with a code naming what was wrong, and a body too large without keeping it', async () => {
    const notJson = await post('{"event":');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: 'invalid_json' });
    const noEvent = await post('{"data":{}}');
    expect(noEvent.status).toBe(400);
    expect(await noEvent.json()).toMatchObject({ code: 'invalid_request', error: expect.stringContaining('event') });
    expect((await post('{"event":"agent:list"}', { 'content-type': 'text/plain' })).status).toBe(415);
    const huge = await post(JSON.stringify({ event: 'state:set', data: { key: 'big', value: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 'line_too_long' });
    // The daemon is unharmed.
    expect((await post('{"event":"system:health"}')).status).toBe(200);
  });

  it('streams the daemon\'s events as server-sent events, leaving out the page\'s own reads', async () => {
    const controller = new AbortController();
    const response = await fetch(`${origin()}/api/stream`, { headers: { cookie }, signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let received = '';
    const until = async (text: string) => {
      while (!received.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${text}: ${received}`);
        received += Buffer.from(value).toString('utf8');
      }
    };
    await until('event: ready');
    await post(JSON.stringify({ event: 'state:get', data: { key: 'read-by-the-page' }, read: true }));
    await client.sendSingle('state:set', { key: 'streamed', value: 1 });
    await until('"key":"streamed"');
    expect(received).not.toContain('read-by-the-page');
    controller.abort();
  });

  it('`ksi dashboard` prints the address; with the dashboard off it says how to turn it on', async () => {
    expect(await ksi(['dashboard', '--socket', daemon.socketPath])).toEqual({ code: 0, stdout: `${url.href}\n`, stderr: '' });
    const off = fakeClaudeDaemon();
    await off.start();
    try {
      const result = await ksi(['dashboard', '--socket', off.socketPath]);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toContain('KSI_HTTP_PORT');
    } finally {
      await off.dispose();
    }
  });

  it('never gives its address to an agent, even one whose profile allows the event', async () => {
    await client.sendSingle('permission:set_agent', { agent_id: 'curious', profile: 'standard', overrides: { events: { allowed_add: ['monitor:dashboard'] } } });
    const { token } = (await client.sendSingle('permission:issue_token', { agent_id: 'curious' })) as { token: string };
    const agent = await RawConnection.open(daemon.socketPath);
    try {
      expect((await agent.request({ event: 'system:identify', data: { agent_id: 'curious', token } })).data).toMatchObject({ identified: true });
      expect((await agent.request({ event: 'monitor:dashboard', data: {} })).data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining("operator's token") });
    } finally {
      agent.close();
    }
  });
});
