import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, SubCommand } from 'nest-commander';
import { CliError, EXIT, usageError } from '../../cli-error';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { bold, dim, red } from '../../output';
import { LogReader, type LogLine } from './daemon-log';

const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

interface LogsOptions extends SocketOptions {
  follow?: boolean;
  level?: string;
  json?: boolean;
}

@SubCommand({ name: 'logs', description: 'The daemon log as readable lines; -f follows it' })
export class DaemonLogsCommand extends KsiCommand<LogsOptions> {
  @Option({ flags: '-f, --follow', description: 'keep printing lines as they are written, until Ctrl-C' })
  parseFollow(): boolean {
    return true;
  }

  @Option({ flags: '--level <level>', description: `only lines at this level or above: ${LEVELS.join(', ')}` })
  parseLevel(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'the lines as the daemon wrote them (one JSON object each)' })
  parseJson(): boolean {
    return true;
  }

  protected override checkOptions(options: LogsOptions): void {
    if (options.level !== undefined && !LEVELS.includes(options.level as Level)) throw usageError(`--level ${options.level} is not one of ${LEVELS.join(', ')}`);
  }

  protected async execute(_params: string[], options: LogsOptions): Promise<void> {
    const file = new DaemonControl(this.socketPath(options)).daemonLog;
    const minimum = LEVELS.indexOf((options.level ?? 'debug') as Level);
    const reader = new LogReader(file, (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return void process.stdout.write(`${text}\n`);
      }
      if (LEVELS.indexOf(line.level as Level) < minimum) return;
      process.stdout.write(`${options.json ? text : readable(line)}\n`);
    });
    // The folder is watched, not the file: a log that does not exist yet (or is replaced) is followed too.
    const folder = path.dirname(file);
    if (!fs.existsSync(options.follow ? folder : file)) throw new CliError(EXIT.daemonError, `No daemon log at ${file} (has a daemon run with this var dir?)`);
    if (!options.follow) return reader.readNew();
    const { watch } = await import('chokidar');
    const watcher = watch(folder, { ignoreInitial: true, depth: 0 }).on('all', (_event, changed) => {
      if (changed === file) reader.readNew();
    });
    // Watching first, then reading: a line written in between is read by one or the other.
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    reader.readNew();
    process.stderr.write(dim(`Following ${file} — Ctrl-C to stop\n`));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await watcher.close();
  }
}

const LEVEL_STYLE: Record<string, (text: string) => string> = { error: red, fatal: red, warn: bold };

/** `time LEVEL message key=value …`: the fields of the line, without the ones every line has. */
function readable({ level = 'info', time = '', msg = '', pid: _pid, ...fields }: LogLine): string {
  const extra = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const label = level.toUpperCase().padEnd(5);
  return `${dim(time)} ${(LEVEL_STYLE[level] ?? ((text: string) => text))(label)} ${msg}${extra.length > 0 ? ` ${dim(extra.join(' '))}` : ''}`;
}
