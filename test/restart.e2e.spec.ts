import * as fs from 'node:fs';
import { DaemonProcess } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

describe('daemon process lifecycle and durability', () => {
  const daemons: DaemonProcess[] = [];
  const track = (daemon: DaemonProcess) => (daemons.push(daemon), daemon);
  afterAll(async () => {
    for (const daemon of daemons) await daemon.dispose();
  });

  it('stops gracefully on SIGTERM (exit 0, socket and PID file removed) and keeps its data across a restart', async () => {
    const first = track(await new DaemonProcess().start());
    expect(Number(fs.readFileSync(`${first.varDir}/run/ksi_daemon.pid`, 'utf8'))).toBe(first.pid);
    const client = first.client();
    await client.sendSingle('state:set', { key: 'durable', value: { kept: true }, namespace: 'restart' });
    await client.sendSingle('async_state:push', { queue_name: 'jobs', value: 'job-1' });
    await client.close();
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(first.socketPath)).toBe(false);
    expect(fs.existsSync(`${first.varDir}/run/ksi_daemon.pid`)).toBe(false);

    const second = track(await new DaemonProcess({ varDir: first.varDir }).start());
    const again = second.client();
    expect(await again.sendSingle('state:get', { key: 'durable', namespace: 'restart' })).toMatchObject({ found: true, value: { kept: true } });
    expect(await again.sendSingle('async_state:pop', { queue_name: 'jobs' })).toMatchObject({ value: 'job-1' });
    await again.close();
    expect(await second.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('loses nothing it acknowledged when killed with SIGKILL, and starts over its stale socket file', async () => {
    const first = track(await new DaemonProcess().start());
    const conn = await RawConnection.open(first.socketPath);
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ event: 'state:set', data: { key: `k${i}`, value: i, namespace: 'crash' } }));
    conn.write(`${lines.join('\n')}\n`);
    const replies = await conn.read(500);
    expect(replies.every((reply) => reply.data?.status === 'set')).toBe(true);
    await first.stop('SIGKILL');
    expect(fs.existsSync(first.socketPath)).toBe(true);

    const second = track(await new DaemonProcess({ varDir: first.varDir }).start());
    const client = second.client();
    expect((await client.sendSingle('state:list', { namespace: 'crash' })).count).toBe(500);
    expect(await client.getValue('state:get', { key: 'k499', namespace: 'crash' })).toBe(499);
    await client.close();
  });

  it('answers requests already sent during a graceful stop, then closes the connection', async () => {
    const daemon = track(await new DaemonProcess().start());
    const conn = await RawConnection.open(daemon.socketPath);
    conn.send({ event: 'state:set', data: { key: 'last', value: 1 }, correlation_id: 'last' });
    const [reply] = await conn.read();
    const exit = daemon.stop('SIGTERM');
    expect(reply.correlation_id).toBe('last');
    await conn.whenClosed();
    expect((await exit).code).toBe(0);
  });

  it('refuses to start a second daemon on the same socket', async () => {
    const running = track(await new DaemonProcess().start());
    const second = new DaemonProcess({ varDir: running.varDir });
    await expect(second.start()).rejects.toThrow(/already running \(PID \d+\)/);
    expect((await running.client().sendSingle('system:health')).status).toBe('healthy');
  });

  it.each([
    ['KSI_MAX_LINE_BYTES', 'lots', /KSI_MAX_LINE_BYTES must be a number/],
    ['KSI_LOG_LEVEL', 'loud', /KSI_LOG_LEVEL must be one of debug, info, warn, error/],
    ['KSI_SHUTDOWN_TIMEOUT_MS', '-5', /KSI_SHUTDOWN_TIMEOUT_MS must be greater than 0/],
    ['KSI_MAX_LINE_BYTES', '10', /KSI_MAX_LINE_BYTES must be at least 1024/],
    ['KSI_LIB_DIR', '/nonexistent/ksi-lib', /KSI_LIB_DIR must be a folder holding compositions\/.*\/nonexistent\/ksi-lib has no compositions folder/],
  ])('stops the start with one line naming %s when it is bad', async (variable, value, message) => {
    const daemon = track(new DaemonProcess({ env: { [variable]: value } }));
    await expect(daemon.start()).rejects.toThrow(/exited with 1/);
    const lines = daemon.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
