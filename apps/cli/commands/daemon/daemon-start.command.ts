import { SubCommand } from 'nest-commander';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { green } from '../../output';

@SubCommand({ name: 'start', description: 'Start the daemon in the background and wait until it answers' })
export class DaemonStartCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const control = new DaemonControl(this.socketPath(options));
    const { pid, alreadyRunning } = await control.start();
    const headline = alreadyRunning ? `KSI daemon already running (PID ${pid})` : green(`✓ KSI daemon started (PID ${pid})`);
    process.stdout.write(`${headline}\n  Socket: ${control.socketPath}\n  PID file: ${control.pidFile}\n  Log: ${control.daemonLog}\n`);
  }
}
