import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Option, SubCommand } from 'nest-commander';
import { CliError, EXIT } from '../../cli-error';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { openConfiguredStorage } from './configured-storage';

interface ExportOptions extends SocketOptions {
  output?: string;
}

@SubCommand({
  name: 'export',
  description: 'Write the whole database (SQLite file or KSI_DATABASE_URL) as NDJSON, to stdout or --output FILE',
})
export class DbExportCommand extends KsiCommand<ExportOptions> {
  @Option({ flags: '-o, --output <file>', description: 'write to this file instead of stdout' })
  parseOutput(value: string): string {
    return value;
  }

  protected async execute(_params: string[], options: ExportOptions): Promise<void> {
    const daemon = await new DaemonControl(this.socketPath(options)).health();
    const { exportDatabase } = await import('../../../../src/database/transfer.js');
    const { storage, close } = await openConfiguredStorage({ existing: true });
    if (daemon?.database.path === storage.location) {
      process.stderr.write('A daemon is running: rows it writes during the export may be missing. Stop it (ksi daemon stop) for an exact copy.\n');
    } else if (daemon) {
      process.stderr.write(`The daemon on this var dir uses the database at ${daemon.database.path}; this exports ${storage.location}. Set KSI_DATABASE_URL (or KSI_VAR_DIR) as the daemon has it to export its database.\n`);
    }
    const out = options.output ? createWriteStream(options.output, { mode: 0o600 }) : process.stdout;
    let outputError: NodeJS.ErrnoException | undefined;
    out.on('error', (error: NodeJS.ErrnoException) => (outputError = error));
    try {
      const end = await exportDatabase(storage, async (line) => {
        if (outputError) throw outputError;
        // once() rejects on an 'error' meanwhile, and drops its listeners either way (a second once() for the error kept one per wait).
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      }).catch((error: NodeJS.ErrnoException) => {
        // The reader went away (`ksi db export | head`): stop quietly, as other commands do.
        if (error.code === 'EPIPE') return undefined;
        if (error === outputError) throw new CliError(EXIT.daemonError, `Cannot write ${options.output ?? 'to stdout'}: ${error.message}`);
        throw error;
      });
      if (!end) return;
      const rows = Object.values(end.rows).reduce((sum, count) => sum + count, 0);
      process.stderr.write(`Exported ${rows} rows of ${Object.keys(end.rows).length} tables from ${storage.location}${options.output ? ` to ${options.output}` : ''}\n`);
    } finally {
      await close();
      if (out !== process.stdout) await new Promise<void>((resolve) => out.end(() => resolve()));
    }
  }
}
