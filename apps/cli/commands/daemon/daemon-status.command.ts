import { SubCommand } from 'nest-commander';
import { EXIT } from '../../cli-error';
import { alive, commandLine, DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { green } from '../../output';

@SubCommand({ name: 'status', description: 'Say whether the daemon is running (exit 0) or not (exit 1)' })
export class DaemonStatusCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const control = new DaemonControl(this.socketPath(options));
    const health = await control.health();
    if (health) {
      process.stdout.write(
        `${green(`KSI daemon is running (PID ${health.pid})`)}\n  Version: ${health.version}\n  Uptime: ${formatUptime(health.uptime)}\n  Socket: ${control.socketPath}\n  PID file: ${control.pidFile}\n  Log: ${control.daemonLog}\n`,
      );
      return;
    }
    const holder = control.lockHolder();
    const pid = control.pidFromFile();
    if (holder !== undefined) process.stdout.write(`KSI daemon process ${holder} is alive (it holds ${control.lockFile}) but does not answer on ${control.socketPath}\n`);
    else if (pid !== undefined && alive(pid)) process.stdout.write(`KSI daemon is not running (stale PID file for PID ${pid}, which is another process now: ${commandLine(pid)}; ${control.pidFile})\n`);
    else if (pid !== undefined) process.stdout.write(`KSI daemon is not running (stale PID file for PID ${pid}: ${control.pidFile})\n`);
    else process.stdout.write('KSI daemon is not running\n');
    process.exitCode = EXIT.daemonError;
  }
}

function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const parts = [[Math.floor(s / 86_400), 'd'], [Math.floor((s % 86_400) / 3_600), 'h'], [Math.floor((s % 3_600) / 60), 'm'], [s % 60, 's']] as const;
  return parts
    .filter(([value], index) => value > 0 || index === parts.length - 1)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}
