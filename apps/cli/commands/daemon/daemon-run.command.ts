import { spawn } from 'node:child_process';
import { SubCommand } from 'nest-commander';
import { daemonNodeArgs } from '../../../daemon/launch';
import { KsiCommand, type SocketOptions } from '../../ksi-command';

@SubCommand({ name: 'run', description: 'Run the daemon in the foreground (what npm start does); Ctrl-C stops it gracefully' })
export class DaemonRunCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const env = { ...process.env, ...(options.socket && { KSI_SOCKET_PATH: this.socketPath(options) }) };
    const child = spawn(process.execPath, daemonNodeArgs(), { stdio: 'inherit', env });
    // Ctrl-C reaches the daemon too (same process group); a signal sent to this process alone is passed on.
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', forward('SIGTERM'));
    const code = await new Promise<number>((resolve) => child.once('exit', (status, signal) => resolve(status ?? (signal ? 128 + 15 : 1))));
    process.exitCode = code;
  }
}
