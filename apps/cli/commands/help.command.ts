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
    const schema = (help.parameters ?? {}) as JsonSchema;
    const required = new Set(schema.required ?? []);
    const parameters = Object.entries(schema.properties ?? {}).map(([name, property]) => [
      `  --${name}`,
      [property.type ?? 'any'].flat().join('|'),
      required.has(name) ? 'required' : 'optional',
      property.default === undefined ? '' : `default ${JSON.stringify(property.default)}`,
      dim(property.description ?? ''),
    ]);
    const examples = help.examples.map((example) => `  $ ${example.command}`);
    const out = [
      `${bold(event)}  ${dim(`(${help.module} module)`)}`,
      `  ${help.summary}`,
      '',
      bold('Parameters'),
      parameters.length > 0 ? table(parameters) : '  (none)',
      '',
      bold('Examples'),
      ...examples,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  }
}
