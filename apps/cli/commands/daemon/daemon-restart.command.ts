import { SubCommand } from 'nest-commander';
import { differingVariables, readDaemonSettings } from '../../../../src/lifecycle/daemon-settings';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { green } from '../../output';
import { stopGraceMs } from './daemon-stop.command';

@SubCommand({ name: 'restart', description: "Stop the daemon (if running) and start it again with the running daemon's settings" })
export class DaemonRestartCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const control = new DaemonControl(this.socketPath(options));
    // The shell restarting it may not be the one that started it: keep what the daemon runs with
    // (a daemon that holds the var dir but does not answer included).
    const runningPid = (await control.health())?.pid ?? control.lockHolder();
    const settings = runningPid === undefined ? undefined : readDaemonSettings(control.varDir, runningPid);
    const stopped = await control.stop(stopGraceMs());
    if (stopped.state === 'stopped') process.stdout.write(`Stopped PID ${stopped.pid}\n`);
    const { pid } = await control.start(undefined, settings);
    process.stdout.write(`${green(`✓ KSI daemon started (PID ${pid})`)}\n  Socket: ${control.socketPath}\n`);
    const differing = settings ? differingVariables(settings.env, control.launchEnv()) : [];
    if (differing.length > 0) {
      process.stdout.write(
        `  Kept the previous daemon's settings; this shell differs in ${differing.join(', ')} (to use this shell's: \`npx ksi daemon stop\`, then \`npx ksi daemon start\`)\n`,
      );
    }
  }
}
