import { SubCommand } from 'nest-commander';
import { KsiCommand, type SocketOptions } from '../../ksi-command';
import { pretty } from '../../output';

@SubCommand({ name: 'health', description: "Print the daemon's system:health" })
export class DaemonHealthCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const health = await this.withClient(options, (client) => client.sendSingle('system:health'), 5_000);
    process.stdout.write(`${pretty(health)}\n`);
  }
}
