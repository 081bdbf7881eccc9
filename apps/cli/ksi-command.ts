import * as path from 'node:path';
import { CommandRunner, Option } from 'nest-commander';
import { defaultSocketPath, KsiClient } from '../../libs/client/src';
import { CliError, EXIT, report } from './cli-error';
import { checkOutputFormat, OUTPUT_FORMATS, printData } from './data-output';

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
      this.checkOptions(options);
      await this.execute(params, options);
    } catch (error) {
      process.exitCode = report(error);
    }
  }

  protected abstract execute(params: string[], options: O): Promise<void>;

  /** Refuses bad options as a usage error before anything is sent. */
  protected checkOptions(_options: O): void {}

  protected socketPath(options: SocketOptions): string {
    return path.resolve(options.socket ?? defaultSocketPath());
  }

  /**
   * For commands that stream until Ctrl-C: resolves on SIGINT or SIGTERM, and fails with exit status 3
   * when the daemon closes the connection (it stopped or died), so a script watching it notices.
   */
  protected untilStopped(client: KsiClient): Promise<void> {
    return new Promise((resolve, reject) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
      client.onClose(() => reject(new CliError(EXIT.unreachable, `The daemon went away (${client.socketPath} closed the connection)`)));
    });
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

export interface OutputOptions extends SocketOptions {
  output?: string;
}

/**
 * A command that prints data: `-o table` (the default: for people), `wide` (more columns where it
 * helps), `json` or `yaml` (for programs), the same data in each.
 */
export abstract class DataCommand<O extends OutputOptions = OutputOptions> extends KsiCommand<O> {
  @Option({ flags: '-o, --output <format>', description: `${OUTPUT_FORMATS.join(', ')} (default table)` })
  parseOutput(value: string): string {
    return value;
  }

  protected override checkOptions(options: O): void {
    // nest-commander skips commander's `choices` check when the option has a parser.
    checkOutputFormat(options.output);
  }

  protected print(options: O, data: unknown, human: (wide: boolean) => string): void {
    printData(options.output, data, human);
  }
}

/** A command that only groups subcommands (`ksi daemon`, `ksi get`): help, or an error for an unknown one. */
export abstract class CommandGroup extends CommandRunner {
  async run(params: string[]): Promise<void> {
    if (params.length > 0) this.command.error(`error: unknown command '${params[0]}' for '${this.command.name()}'\n${this.command.helpInformation()}`);
    this.command.help();
  }
}
