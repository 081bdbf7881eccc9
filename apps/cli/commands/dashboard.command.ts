import { Command, Option } from 'nest-commander';
import { CliError, EXIT, orFail } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';

interface DashboardOptions extends SocketOptions {
  open?: boolean;
}

@Command({ name: 'dashboard', description: "Print the web dashboard's address (it carries the access token); --open opens it in a browser" })
export class DashboardCommand extends KsiCommand<DashboardOptions> {
  @Option({ flags: '--open', description: 'open it in the default browser' })
  parseOpen(): boolean {
    return true;
  }

  protected async execute(_params: string[], options: DashboardOptions): Promise<void> {
    const { url } = orFail(await this.withClient(options, (client) => client.sendSingle('monitor:dashboard')));
    if (url === null) throw new CliError(EXIT.daemonError, 'The dashboard is off: stop the daemon and start it with KSI_HTTP_PORT set (ksi daemon stop; KSI_HTTP_PORT=7777 ksi daemon start)');
    process.stdout.write(`${url}\n`);
    if (!options.open) return;
    // `open` picks the platform's way (xdg-open, open, start) and is ESM-only, hence loaded here.
    const { default: open } = await import('open');
    await open(url);
  }
}
