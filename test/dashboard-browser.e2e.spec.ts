import { chromium, type Browser, type Page } from 'playwright-core';
import type { KsiClient } from '../libs/client/src';
import { fakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';

/** Debian's Chromium, found by jest.config.cjs (which skips this file, or fails under CI, without it). */
const CHROMIUM = process.env.KSI_TEST_CHROMIUM!;
/** As root, Chromium needs --no-sandbox; the background-network flags keep it off the closed network. Playwright gives it a fresh profile. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A prompt whose turn calls Bash with this command (the fake asks the permission prompt tool first). */
const bash = (command: string, note: string) => `[[tool_use:Bash]] [[tool_input:${JSON.stringify({ command })}]] ${note}`;

describe('the web dashboard in a real browser (headless Chromium)', () => {
  const daemon = fakeClaudeDaemon({ env: { KSI_HTTP_PORT: '0' } });
  let client: KsiClient;
  let browser: Browser;
  let page: Page;
  let url: URL;
  const send = (event: string, data: Record<string, unknown> = {}) => client.sendSingle(event, data) as Promise<Record<string, any>>;

  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
    url = new URL((await send('monitor:dashboard')).url);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    await page.goto(url.href);
    await page.locator('[data-testid=stream-status]', { hasText: 'live' }).waitFor({ timeout: 15_000 });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await client?.close();
    await daemon.dispose();
  });

  it('takes the token from the address into a cookie and leaves it out of the address bar', async () => {
    expect(page.url()).toBe(`${url.origin}/`);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ value: url.searchParams.get('token'), httpOnly: true, sameSite: 'Strict' });
  });

  it('shows an agent spawned over the socket as it appears, without a reload', async () => {
    await page.locator('[data-testid=agents]', { hasText: 'No agents' }).waitFor({ timeout: 10_000 });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'watched' });
    const row = page.locator('[data-testid=agent-row][data-agent-id=watched]');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('base_agent');
  });

  it("approves a pending tool call with its button, and the agent's turn goes on with the tool", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'asker', permission_profile: 'supervised' });
    await send('agent:send_message', { agent_id: 'asker', message: { prompt: bash('npm test', 'run the tests') } });
    const card = page.locator('[data-testid=approval]', { hasText: 'asker' });
    await card.waitFor({ timeout: 20_000 });
    expect(await card.textContent()).toContain('Bash(npm test)');
    const approvalId = (await card.getAttribute('data-approval-id'))!;
    await card.getByRole('button', { name: 'Allow' }).click();
    // The click returns before the page's request reaches the daemon.
    await eventually(async () => (await send('approval:get', { approval_id: approvalId })).status !== 'pending', 10_000, 'the decision the button sent');
    expect(await send('approval:get', { approval_id: approvalId })).toMatchObject({ status: 'allowed', decided_by: 'operator' });
    await eventually(async () => {
      const info = await send('agent:info', { agent_id: 'asker' });
      return info.status === 'idle' && info.pending_messages === 0 && info.failed_messages === 0;
    }, 30_000, 'asker idle after its turn');
    const { events } = await send('monitor:get_events', { patterns: ['completion:result'], limit: 100 });
    const result = (events as { data: Record<string, any> }[]).find((event) => event.data.result.ksi.agent_id === 'asker')!;
    expect(result.data.result.response.permission_denials).toEqual([]);
    await card.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it("shows an event's correlation tree when it is clicked", async () => {
    await page.getByTestId('event-filter').fill('agent:spawn');
    await page.locator('[data-testid=event-row][data-event-name="agent:spawn"]').first().click();
    const trace = page.getByTestId('trace');
    const root = trace.locator('.tree > li').first();
    await root.waitFor({ timeout: 10_000 });
    // The tree's root is the request itself, with what it caused beneath it.
    expect(await root.locator('.mono').first().textContent()).toBe('agent:spawn');
  });

  it('answers 401, saying what to open, to a browser without the token', async () => {
    const stranger = await browser.newContext();
    try {
      const response = await (await stranger.newPage()).goto(`${url.origin}/`);
      expect(response?.status()).toBe(401);
      expect(await response?.text()).toContain('ksi dashboard');
    } finally {
      await stranger.close();
    }
  });
});
