import { Command } from 'nest-commander';
import { isErrorResult, type HelpResult, type McpToolDescription } from '../../../libs/client/src';
import { CliError, EXIT } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

interface JsonSchema {
  properties?: Record<string, { type?: string | string[]; default?: unknown; description?: string }>;
  required?: string[];
}

@Command({ name: 'help', arguments: '[event]', description: 'Describe an event: summary, parameters, example commands (or this help)' })
export class HelpCommand extends KsiCommand {
  protected async execute([event]: string[], options: SocketOptions): Promise<void> {
    if (!event) {
      this.command.parent?.help();
      return;
    }
    const reply = await this.withClient(options, (client) => client.sendSingle('system:help', { event }));
    if (isErrorResult(reply)) {
      const suggestions = (reply.suggestions as string[] | undefined) ?? [];
      throw new CliError(EXIT.daemonError, `Unknown event: ${event}.${suggestions.length ? ` Did you mean ${suggestions.join(', ')}?` : ' See `ksi discover`.'}`);
    }
    // Asked in the verbose format (the default): only the mcp format answers without examples.
    const help = reply as Exclude<HelpResult, McpToolDescription>;
    const out =
      help.kind === 'push'
        ? [
            `${bold(event)}  ${dim('(pushed by the daemon; subscribe, do not send)')}`,
            `  ${help.summary}`,
            '',
            bold('Payload'),
            fields(help.payload),
            '',
            bold('Example line'),
            `  ${help.example}`,
          ]
        : [
            `${bold(event)}  ${dim(`(${help.module} module)`)}`,
            `  ${help.summary}`,
            '',
            bold('Parameters'),
            fields(help.parameters, '--'),
            '',
            bold('Result'),
            fields(help.result),
            '',
            bold('Examples'),
            ...help.examples.map((example) => `  $ ${example.command}`),
          ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

/** One line per property of a JSON Schema object: name, type, required or not, default, description. */
function fields(schema: JsonSchema = {}, prefix = ''): string {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(([name, property]) => [
    `  ${prefix}${name}`,
    [property.type ?? 'any'].flat().join('|'),
    required.has(name) ? 'required' : 'optional',
    property.default === undefined ? '' : `default ${JSON.stringify(property.default)}`,
    dim(property.description ?? ''),
  ]);
  return rows.length > 0 ? table(rows) : '  (none)';
}
