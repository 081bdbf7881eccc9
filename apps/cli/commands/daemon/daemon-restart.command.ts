import { SubCommand } from 'nest-commander';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { green } from '../../output';
import { stopGraceMs } from './daemon-stop.command';

@SubCommand({ name: 'restart', description: 'Stop the daemon (if running) and start it again' })
export class DaemonRestartCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const control = new DaemonControl(this.socketPath(options));
    const stopped = await control.stop(stopGraceMs());
    if (stopped.state === 'stopped') process.stdout.write(`Stopped PID ${stopped.pid}\n`);
    const { pid } = await control.start();
    process.stdout.write(`${green(`✓ KSI daemon started (PID ${pid})`)}\n  Socket: ${control.socketPath}\n`);
  }
}
