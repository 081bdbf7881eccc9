import { Command } from 'nest-commander';
import { isErrorResult, type HelpResult, type McpToolDescription } from '../../../libs/client/src';
import { mergedFields, shapesOf, type JsonSchema, type SchemaField } from '../../../libs/client/src/schema-fields';
import { CliError, EXIT } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

@Command({ name: 'help', arguments: '[event]', description: 'Describe an event: summary, parameters, example commands (or this help)' })
export class HelpCommand extends DataCommand {
  protected async execute([event]: string[], options: OutputOptions): Promise<void> {
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
    this.print(options, help, () => out.join('\n'));
  }
}

/**
 * One line per field of a JSON Schema: name, type, required or not, default, description. A union
 * lists the fields all its shapes share, then each shape's own under a heading naming its constants.
 */
function fields(schema: JsonSchema = {}, prefix = ''): string {
  const shapes = shapesOf(schema);
  const shared = mergedFields(shapes).filter((field) => shapes.every((shape) => shape.some((other) => other.name === field.name)));
  // Headings are strings, fields are table rows: one table keeps the columns of every shape aligned.
  const lines: (string | string[])[] = shared.map((field) => row(field, `  ${prefix}`));
  if (shapes.length > 1) {
    shapes.forEach((shape, index) => {
      const constants = shape.filter((field) => field.const !== undefined).map((field) => `${field.name} = ${JSON.stringify(field.const)}`);
      const own = shape.filter((field) => !shared.some((other) => other.name === field.name));
      lines.push(`  ${bold(`shape ${index + 1} of ${shapes.length}`)}${constants.length > 0 ? `: ${constants.join(', ')}` : ''}`);
      lines.push(...(own.length > 0 ? own.map((field) => row(field, `    ${prefix}`)) : [dim('    (no other fields)')]));
    });
  }
  if (lines.length === 0) return '  (none)';
  const rows = lines.filter((line): line is string[] => Array.isArray(line));
  const rendered = rows.length > 0 ? table(rows).split('\n') : [];
  return lines.map((line) => (typeof line === 'string' ? line : rendered.shift())).join('\n');
}

function row(field: SchemaField, indent: string): string[] {
  return [
    `${indent}${field.name}`,
    field.type,
    field.required ? 'required' : 'optional',
    field.default === undefined ? '' : `default ${JSON.stringify(field.default)}`,
    dim(field.description),
  ];
}
