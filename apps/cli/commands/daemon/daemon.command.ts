import { Command } from 'nest-commander';
import { CommandGroup } from '../../ksi-command';
import { DaemonDevCommand } from './daemon-dev.command';
import { DaemonHealthCommand } from './daemon-health.command';
import { DaemonLogsCommand } from './daemon-logs.command';
import { DaemonRestartCommand } from './daemon-restart.command';
import { DaemonRunCommand } from './daemon-run.command';
import { DaemonStartCommand } from './daemon-start.command';
import { DaemonStatusCommand } from './daemon-status.command';
import { DaemonStopCommand } from './daemon-stop.command';

export const daemonSubCommands = [
  DaemonStartCommand,
  DaemonStopCommand,
  DaemonRestartCommand,
  DaemonStatusCommand,
  DaemonHealthCommand,
  DaemonLogsCommand,
  DaemonRunCommand,
  DaemonDevCommand,
];

@Command({ name: 'daemon', description: 'Start, stop and inspect the daemon', subCommands: daemonSubCommands })
export class DaemonCommand extends CommandGroup {}
