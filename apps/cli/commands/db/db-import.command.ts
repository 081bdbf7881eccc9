import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { SubCommand } from 'nest-commander';
import { CliError, EXIT, usageError } from '../../cli-error';
import { DaemonControl } from '../../daemon-control';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { openConfiguredStorage } from './configured-storage';

@SubCommand({
  name: 'import',
  arguments: '<file>',
  description: 'Read a `ksi db export` file (- for stdin) into the configured database, which must be empty; the daemon must be stopped',
})
export class DbImportCommand extends KsiCommand {
  protected async execute([file]: string[], options: SocketOptions): Promise<void> {
    if (!file) throw usageError('ksi db import needs the file to read (- for stdin)');
    if (await new DaemonControl(this.socketPath(options)).health()) throw new CliError(EXIT.daemonError, 'A daemon is running on this var dir: stop it (ksi daemon stop) before importing.');
    const input = file === '-' ? process.stdin : createReadStream(file);
    const opened = new Promise<void>((resolve, reject) => (file === '-' ? resolve() : input.once('open', () => resolve()).once('error', reject)));
    await opened.catch((error: Error) => {
      throw new CliError(EXIT.usage, `Cannot read ${file}: ${error.message}`);
    });
    const { importDatabase, ImportError } = await import('../../../../src/database/transfer.js');
    const { storage, close } = await openConfiguredStorage();
    try {
      const imported = await importDatabase(storage, createInterface({ input, crlfDelay: Infinity }));
      const rows = Object.values(imported).reduce((sum, count) => sum + count, 0);
      process.stdout.write(`Imported ${rows} rows into ${storage.location}\n`);
    } catch (error) {
      if (error instanceof ImportError) throw new CliError(EXIT.daemonError, `Nothing imported. ${error.message}`);
      throw error;
    } finally {
      await close();
    }
  }
}
