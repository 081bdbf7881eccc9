import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { SubCommand } from 'nest-commander';
import { installRoot } from '../../../../src/config/install-root';
import { daemonNodeArgs } from '../../../daemon/launch';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { dim, green, red } from '../../output';

const ROOT = installRoot();
const WATCHED = ['src', 'apps', 'libs'].map((dir) => path.join(ROOT, dir));

@SubCommand({ name: 'dev', description: 'Run the daemon in the foreground, rebuilding and restarting it when src/, apps/ or libs/ change' })
export class DaemonDevCommand extends KsiCommand {
  private daemon?: ChildProcess;

  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const env = { ...process.env, ...(options.socket && { KSI_SOCKET_PATH: this.socketPath(options) }) };
    this.daemon = this.launch(env);
    let timer: NodeJS.Timeout | undefined;
    const changed = new Set<string>();
    // chokidar is loaded by the commands that watch, not by every ksi command.
    const { watch } = await import('chokidar');
    const watcher = watch(WATCHED, { ignoreInitial: true, ignored: (file, stats) => Boolean(stats?.isFile() && !file.endsWith('.ts')) });
    watcher.on('all', (_event, file) => {
      changed.add(path.relative(ROOT, file));
      clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...changed];
        changed.clear();
        void this.reload(files, env, options);
      }, 300);
    });
    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = () => {
        // A second Ctrl-C during the stop is the daemon's second signal: it exits at once.
        if (stopping) this.daemon?.kill('SIGTERM');
        stopping = true;
        resolve();
      };
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
    });
    await watcher.close();
    await this.stop();
  }

  private async reload(files: string[], env: NodeJS.ProcessEnv, options: SocketOptions): Promise<void> {
    process.stdout.write(dim(`\nChanged: ${files.slice(0, 5).join(', ')}${files.length > 5 ? ` and ${files.length - 5} more` : ''}\nRebuilding…\n`));
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) {
      process.stdout.write(red('Build failed; the running daemon was left as it is.\n'));
      return;
    }
    // The stop writes a checkpoint too; this one is taken while everything still runs, as a record.
    const saved = await this.withClient(options, (client) => client.sendSingle('dev:checkpoint'), 10_000).catch(() => undefined);
    process.stdout.write(dim(saved ? `Checkpoint ${saved.checkpoint_id} written\n` : 'No checkpoint: the daemon did not answer\n'));
    await this.stop();
    this.daemon = this.launch(env);
    process.stdout.write(green('✓ Restarted (the new daemon restores the checkpoint its predecessor wrote at stop)\n'));
  }

  /**
   * The daemon runs in its own process group: Ctrl-C reaches only this process, which stops the
   * daemon with one SIGTERM. In the terminal's group it would get SIGINT from the terminal and the
   * forwarded SIGTERM, and take the second for "exit immediately".
   */
  private launch(env: NodeJS.ProcessEnv): ChildProcess {
    return spawn(process.execPath, daemonNodeArgs(), { stdio: 'inherit', env, detached: true });
  }

  private async stop(): Promise<void> {
    const daemon = this.daemon;
    if (!daemon || daemon.exitCode !== null) return;
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
}
