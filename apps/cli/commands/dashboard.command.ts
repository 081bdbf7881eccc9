import { Command, Option } from 'nest-commander';
import { CliError, EXIT, orFail } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';

interface DashboardOptions extends OutputOptions {
  open?: boolean;
}

@Command({ name: 'dashboard', description: "Print the web dashboard's address (it carries the access token); --open opens it in a browser" })
export class DashboardCommand extends DataCommand<DashboardOptions> {
  @Option({ flags: '--open', description: 'open it in the default browser' })
  parseOpen(): boolean {
    return true;
  }

  protected async execute(_params: string[], options: DashboardOptions): Promise<void> {
    const dashboard = orFail(await this.withClient(options, (client) => client.sendSingle('monitor:dashboard')));
    const { url } = dashboard;
    if (url === null) throw new CliError(EXIT.daemonError, 'The dashboard is off: stop the daemon and start it with KSI_HTTP_PORT set (ksi daemon stop; KSI_HTTP_PORT=7777 ksi daemon start)');
    this.print(options, dashboard, () => url);
    if (!options.open) return;
    // `open` picks the platform's way (xdg-open, open, start) and is ESM-only, hence loaded here.
    const { default: open } = await import('open');
    await open(url);
  }
}
