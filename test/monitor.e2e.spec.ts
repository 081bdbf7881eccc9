import { spawn } from 'node:child_process';
import { DaemonProcess, eventually } from './support/daemon-process';
import { KSI_BIN } from './support/ksi-cli';
import { RawConnection } from './support/raw-connection';

describe('monitor: live event streams (real daemon)', () => {
  const daemon = new DaemonProcess();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it("pushes another client's matching requests as monitor:event lines, with secrets redacted", async () => {
    const watcher = await RawConnection.open(daemon.socketPath);
    const actor = await RawConnection.open(daemon.socketPath);
    const subscribed = await watcher.request({ event: 'monitor:subscribe', data: { patterns: ['state:*'] } });
    expect(subscribed.data).toMatchObject({ status: 'subscribed', patterns: ['state:*'] });

    await actor.request({ event: 'system:health' });
    await actor.request({ event: 'state:set', data: { key: 'watched', value: { api_token: 'hunter2', n: 1 } }, correlation_id: 'cid-1' });
    await actor.request({ event: 'state:get', data: {} });
    const [set, invalid] = await watcher.read(2);
    expect(set).toMatchObject({
      event: 'monitor:event',
      push: true,
      data: { event_name: 'state:set', correlation_id: 'cid-1', source: 'external', outcome: 'ok', data: { key: 'watched', value: { api_token: '[redacted]', n: 1 } } },
    });
    expect(set.data.client_id).toMatch(/^conn-/);
    expect(set.data.client_id).not.toBe(subscribed.data.client_id);
    expect(invalid.data).toMatchObject({ event_name: 'state:get', outcome: 'invalid_params' });
    expect(set).not.toHaveProperty('correlation_id');

    expect((await watcher.request({ event: 'monitor:unsubscribe' })).data).toMatchObject({ was_subscribed: true });
    await actor.request({ event: 'state:set', data: { key: 'unwatched', value: 1 } });
    expect((await watcher.request({ event: 'system:health', correlation_id: 'next' })).correlation_id).toBe('next');
    watcher.close();
    actor.close();
  });

  it('`ksi monitor --json` streams until interrupted', async () => {
    const child = spawn(process.execPath, [KSI_BIN, 'monitor', 'state:*', '--json'], { env: { ...process.env, KSI_SOCKET_PATH: daemon.socketPath }, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const client = daemon.client();
    await eventually(async () => {
      await client.sendSingle('state:set', { key: 'from-cli-test', value: 7 });
      return output.includes('from-cli-test');
    });
    await client.close();
    const line = JSON.parse(output.trim().split('\n')[0]);
    expect(line).toMatchObject({ event_name: 'state:set', data: { key: 'from-cli-test', value: 7 } });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe('a subscriber that stops reading', () => {
  const daemon = new DaemonProcess({ env: { KSI_MAX_OUTPUT_BYTES: String(256 * 1024) } });
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('is dropped once its unread output passes KSI_MAX_OUTPUT_BYTES; the daemon and other clients carry on', async () => {
    const slow = await RawConnection.open(daemon.socketPath);
    await slow.request({ event: 'monitor:subscribe', data: { patterns: ['state:*'] } });
    slow.socket.pause();
    const busy = await RawConnection.open(daemon.socketPath);
    const value = 'v'.repeat(2_000);
    const lines = Array.from({ length: 2_000 }, (_, i) => JSON.stringify({ event: 'state:set', data: { key: `flood-${i % 10}`, value } }));
    busy.write(`${lines.join('\n')}\n`);
    expect((await busy.read(2_000)).every((reply) => reply.data?.status === 'set')).toBe(true);
    slow.socket.resume();
    await slow.whenClosed();
    expect((await busy.request({ event: 'system:health' })).data.connections).toBe(1);
    busy.close();
  });
});
