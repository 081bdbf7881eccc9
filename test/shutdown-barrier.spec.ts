import { Injectable, Module } from '@nestjs/common';
import { ShutdownHandler } from '../src/lifecycle/shutdown-handler.decorator';
import { startInProcess } from './support/in-process-daemon';
import { RawConnection } from './support/raw-connection';

@Injectable()
class StuckService {
  @ShutdownHandler('stuck')
  stop(): Promise<void> {
    return new Promise(() => undefined);
  }
}

@Module({ providers: [StuckService] })
class StuckModule {}

describe('shutdown barrier (real AppModule and SQLite, with a service that never acknowledges)', () => {
  it('finishes at the timeout, says which service did not acknowledge, and the next start reports it', async () => {
    const first = await startInProcess([StuckModule], { env: { KSI_SHUTDOWN_TIMEOUT_MS: '400' } });
    const started = Date.now();
    await first.stop();
    // It waited for the service until the timeout (a stop that never ends fails the test's own timeout).
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);

    const second = await startInProcess([], { varDir: first.config.varDir });
    const client = await RawConnection.open(second.config.socketPath);
    const health = (await client.request({ event: 'system:health' })).data;
    expect(health.last_shutdown).toMatchObject({ kind: 'timeout', clean: false, timed_out_services: ['stuck'], acknowledged: expect.arrayContaining(['completion', 'mcp']) });
    expect(health.last_shutdown.checkpoint_id).toEqual(expect.any(Number));
    client.close();
    await second.close();
  });
});
