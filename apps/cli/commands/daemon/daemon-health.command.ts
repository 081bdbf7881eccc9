import { SubCommand } from 'nest-commander';
import { isErrorResult } from '../../../../libs/client/src';
import { EXIT } from '../../cli-error';
import { DataCommand, type OutputOptions } from '../../ksi-command';
import { pretty } from '../../output';

@SubCommand({ name: 'health', description: "Print the daemon's system:health; exit 1 while it is unhealthy (its database out of reach)" })
export class DaemonHealthCommand extends DataCommand {
  protected async execute(_params: string[], options: OutputOptions): Promise<void> {
    const health = await this.withClient(options, (client) => client.sendSingle('system:health'), 5_000);
    this.print(options, health, () => pretty(health));
    // For scripts and health checks: an unhealthy daemon answers, but cannot do its work.
    if (!isErrorResult(health) && health.status === 'unhealthy') process.exitCode = EXIT.daemonError;
  }
}
