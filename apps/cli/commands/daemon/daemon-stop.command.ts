import { SubCommand } from 'nest-commander';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { green } from '../../output';

/** How long the daemon's own graceful shutdown may take before SIGTERM and then SIGKILL. */
export const stopGraceMs = () => Number(process.env.KSI_SHUTDOWN_TIMEOUT_MS ?? 30_000) + 5_000;

@SubCommand({ name: 'stop', description: 'Stop the daemon gracefully (then SIGTERM, then SIGKILL after a timeout)' })
export class DaemonStopCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const outcome = await new DaemonControl(this.socketPath(options)).stop(stopGraceMs());
    if (outcome.state === 'not_running' && outcome.otherProcess) {
      process.stdout.write(
        `KSI daemon is not running: the PID file named PID ${outcome.stalePid}, which is another process now (${outcome.otherProcess}); nothing was signalled, the stale PID file was removed\n`,
      );
    } else if (outcome.state === 'not_running') {
      process.stdout.write(`KSI daemon is not running${outcome.stalePid ? ` (removed the stale PID file of PID ${outcome.stalePid})` : ''}\n`);
    } else {
      process.stdout.write(`${outcome.forced ? `KSI daemon (PID ${outcome.pid}) did not stop in time and was killed` : green(`✓ KSI daemon stopped (PID ${outcome.pid})`)}\n`);
    }
  }
}
