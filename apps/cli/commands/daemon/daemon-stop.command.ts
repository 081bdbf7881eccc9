import { SubCommand } from 'nest-commander';
import { EXIT } from '../../cli-error';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { green } from '../../output';
import { LogReader, type LogLine } from './daemon-log';

/** How long the daemon's own graceful shutdown may take before SIGTERM and then SIGKILL. */
export const stopGraceMs = () => Number(process.env.KSI_SHUTDOWN_TIMEOUT_MS ?? 30_000) + 5_000;

@SubCommand({ name: 'stop', description: 'Stop the daemon gracefully (then SIGTERM, then SIGKILL after a timeout)' })
export class DaemonStopCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const control = new DaemonControl(this.socketPath(options));
    // The stop's only account of how the shutdown went (its checkpoint, its services) is the daemon's log.
    const logged: LogLine[] = [];
    const log = new LogReader(control.daemonLog, (text) => logged.push(parsed(text))).skipToEnd();
    const outcome = await control.stop(stopGraceMs());
    if (outcome.state === 'not_running' && outcome.otherProcess) {
      process.stdout.write(
        `KSI daemon is not running: the PID file named PID ${outcome.stalePid}, which is another process now (${outcome.otherProcess}); nothing was signalled, the stale PID file was removed\n`,
      );
      return;
    }
    if (outcome.state === 'not_running') {
      process.stdout.write(`KSI daemon is not running${outcome.stalePid ? ` (removed the stale PID file of PID ${outcome.stalePid})` : ''}\n`);
      return;
    }
    log.readNew();
    const errors = logged.filter((line) => line.pid === outcome.pid && (line.level === 'error' || line.level === 'fatal'));
    if (outcome.forced) process.stdout.write(`KSI daemon (PID ${outcome.pid}) did not stop in time and was killed\n`);
    else process.stdout.write(errors.length === 0 ? `${green(`✓ KSI daemon stopped (PID ${outcome.pid})`)}\n` : `KSI daemon stopped (PID ${outcome.pid})\n`);
    if (errors.length === 0) return;
    // Stopped, but not cleanly (its checkpoint not written, say): the exit status tells a script so.
    process.stderr.write(`It did not stop cleanly: it logged these errors while stopping (ksi daemon logs --level error shows them in full):\n${summary(errors)}\n`);
    process.exitCode = EXIT.daemonError;
  }
}

/** A line of the log; one that is not JSON names no level, so it counts for nothing here. */
function parsed(text: string): LogLine {
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    return {};
  }
}

/** Each distinct message once, in the order first logged, with how many times it was. */
function summary(errors: LogLine[]): string {
  const counts = new Map<string, number>();
  for (const { msg = '(no message)' } of errors) counts.set(msg, (counts.get(msg) ?? 0) + 1);
  return [...counts].map(([msg, count]) => `  ${msg}${count > 1 ? ` (${count} times)` : ''}`).join('\n');
}
