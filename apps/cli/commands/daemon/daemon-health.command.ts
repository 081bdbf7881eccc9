import { SubCommand } from 'nest-commander';
import { DataCommand, type OutputOptions } from '../../ksi-command';
import { pretty } from '../../output';

@SubCommand({ name: 'health', description: "Print the daemon's system:health" })
export class DaemonHealthCommand extends DataCommand {
  protected async execute(_params: string[], options: OutputOptions): Promise<void> {
    const health = await this.withClient(options, (client) => client.sendSingle('system:health'), 5_000);
    this.print(options, health, () => pretty(health));
  }
}
