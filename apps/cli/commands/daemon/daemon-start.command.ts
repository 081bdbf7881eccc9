import { SubCommand } from 'nest-commander';
import { lastDaemonSettings } from '../../../../src/lifecycle/daemon-settings';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { green } from '../../output';

/** The variables that choose the database. */
const DATABASE_VARIABLES = ['KSI_DATABASE_URL', 'KSI_DB_PATH'];

@SubCommand({ name: 'start', description: 'Start the daemon in the background and wait until it answers' })
export class DaemonStartCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const control = new DaemonControl(this.socketPath(options));
    const last = lastDaemonSettings(control.varDir);
    const { pid, alreadyRunning } = await control.start();
    const headline = alreadyRunning ? `KSI daemon already running (PID ${pid})` : green(`✓ KSI daemon started (PID ${pid})`);
    process.stdout.write(`${headline}\n  Socket: ${control.socketPath}\n  PID file: ${control.pidFile}\n  Log: ${control.daemonLog}\n`);
    // After a move to PostgreSQL, a start from a shell without the URL would quietly go back to the old SQLite file.
    // (Empty is unset, as the daemon reads it.)
    const env = control.launchEnv();
    const moved = alreadyRunning || !last ? [] : DATABASE_VARIABLES.filter((name) => (last.env[name] || '') !== (env[name] || ''));
    if (moved.length > 0) {
      const database = (await control.health())?.database.path;
      process.stdout.write(`  Note: the last daemon on this var dir ran with another ${moved.join(' and ')}; this one uses the database at ${database}. What the last one wrote stays in its database (ksi db export and import move it).\n`);
    }
  }
}
