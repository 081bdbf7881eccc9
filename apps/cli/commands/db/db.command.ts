import { Command } from 'nest-commander';
import { CommandGroup } from '../../ksi-command';
import { DbExportCommand } from './db-export.command';
import { DbImportCommand } from './db-import.command';

export const dbSubCommands = [DbExportCommand, DbImportCommand];

@Command({ name: 'db', description: 'Back up the database, or move it between SQLite and PostgreSQL', subCommands: dbSubCommands })
export class DbCommand extends CommandGroup {}
