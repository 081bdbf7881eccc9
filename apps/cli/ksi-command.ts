import * as path from 'node:path';
import { CommandRunner, Option } from 'nest-commander';
import { defaultSocketPath, KsiClient } from '../../libs/client/src';
import { report } from './cli-error';

export interface SocketOptions {
  socket?: string;
}

/**
 * Every `ksi` command: takes `--socket PATH` (else KSI_SOCKET_PATH, else $KSI_VAR_DIR/run/daemon.sock),
 * and turns any failure into a message on stderr and the contract's exit status.
 */
export abstract class KsiCommand<O extends SocketOptions = SocketOptions> extends CommandRunner {
  @Option({ flags: '-s, --socket <path>', description: 'daemon socket (default: $KSI_SOCKET_PATH or var/run/daemon.sock)' })
  parseSocket(value: string): string {
    return value;
  }

  async run(params: string[], options: O = {} as O): Promise<void> {
    try {
      await this.execute(params, options);
    } catch (error) {
      process.exitCode = report(error);
    }
  }

  protected abstract execute(params: string[], options: O): Promise<void>;

  protected socketPath(options: SocketOptions): string {
    return path.resolve(options.socket ?? defaultSocketPath());
  }

  /** Runs `use` with a connected client and always closes it. */
  protected async withClient<T>(options: SocketOptions, use: (client: KsiClient) => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const client = new KsiClient({ socketPath: this.socketPath(options), timeoutMs });
    try {
      return await use(client);
    } finally {
      await client.close();
    }
  }
}

/** A command that only groups subcommands (`ksi daemon`, `ksi get`): help, or an error for an unknown one. */
export abstract class CommandGroup extends CommandRunner {
  async run(params: string[]): Promise<void> {
    if (params.length > 0) this.command.error(`error: unknown command '${params[0]}' for '${this.command.name()}'\n${this.command.helpInformation()}`);
    this.command.help();
  }
}
