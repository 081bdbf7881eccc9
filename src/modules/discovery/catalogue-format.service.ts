import { Inject, Injectable } from '@nestjs/common';
import picomatch from 'picomatch';
import type {
  CompactEventDescription,
  CompactPushDescription,
  EventDescription,
  McpToolDescription,
  PushDefinition,
  PushDescription,
} from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventCatalogue, namespaceOf, type CatalogueEntry } from '../../events/event-catalogue';

type JsonSchema = { properties?: Record<string, JsonSchemaProperty>; required?: string[]; anyOf?: JsonSchema[]; oneOf?: JsonSchema[] };
type JsonSchemaProperty = { type?: string | string[]; default?: unknown; description?: string };
type CompactField = NonNullable<CompactEventDescription['p']>[number];
export type FormatStyle = 'verbose' | 'compact' | 'mcp';

/** Renders the event catalogue for discovery, help and module introspection. */
@Injectable()
export class CatalogueFormatService {
  constructor(
    private readonly catalogue: EventCatalogue,
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
  ) {}

  /** The first handler of each external event, filtered by namespace and event glob. */
  select(namespace?: string, eventGlob?: string): CatalogueEntry[] {
    const matches = nameFilter(namespace, eventGlob);
    const seen = new Set<string>();
    return this.catalogue.entries().filter((entry) => {
      if (seen.has(entry.event)) return false;
      seen.add(entry.event);
      return matches(entry.event);
    });
  }

  /** The events the daemon pushes, filtered like `select`. */
  selectPushes(namespace?: string, eventGlob?: string): PushDefinition[] {
    const matches = nameFilter(namespace, eventGlob);
    return this.catalogue.pushDefinitions().filter((definition): definition is PushDefinition => definition.kind === 'push' && matches(definition.name));
  }

  describe(entry: CatalogueEntry, style: FormatStyle, detail: boolean): EventDescription | CompactEventDescription | McpToolDescription {
    if (style === 'mcp') return this.tool(entry);
    return style === 'compact' ? this.compact(entry, detail) : this.verbose(entry, detail);
  }

  /** What an MCP client offers as a tool: name, summary and the params' JSON Schema. */
  tool(entry: CatalogueEntry): McpToolDescription {
    return { name: entry.event, description: entry.definition.summary, inputSchema: { type: 'object', ...this.catalogue.parametersOf(entry) } };
  }

  verbose(entry: CatalogueEntry, detail: boolean): EventDescription {
    const { summary, result } = entry.definition;
    const schemas = detail && { parameters: this.catalogue.parametersOf(entry), result: this.catalogue.jsonSchemaOf(result, 'output') };
    return { kind: 'request', module: entry.module, handler: entry.handler, summary, ...schemas };
  }

  private compact(entry: CatalogueEntry, detail: boolean): CompactEventDescription {
    const { summary, result } = entry.definition;
    const fields = detail && { p: compactFields(this.catalogue.parametersOf(entry)), r: compactFields(this.catalogue.jsonSchemaOf(result, 'output')) };
    return { k: 'request', m: entry.module, h: entry.handler, s: summary, ...fields };
  }

  describePush(definition: PushDefinition, style: Exclude<FormatStyle, 'mcp'>, detail: boolean): PushDescription | CompactPushDescription {
    if (style === 'verbose') return this.verbosePush(definition, detail);
    return { k: 'push', s: definition.summary, ...(detail && { d: compactFields(this.catalogue.jsonSchemaOf(definition.payload, 'output')) }) };
  }

  verbosePush(definition: PushDefinition, detail: boolean): PushDescription {
    return { kind: 'push', summary: definition.summary, ...(detail && { payload: this.catalogue.jsonSchemaOf(definition.payload, 'output') }) };
  }

  /** Example command lines for an event, with a placeholder for each required parameter. */
  examples(entry: CatalogueEntry): { command: string }[] {
    const schema = this.catalogue.parametersOf(entry) as JsonSchema;
    const data: Record<string, unknown> = {};
    for (const name of schema.required ?? []) data[name] = placeholder(name, schema.properties?.[name]);
    const line = JSON.stringify({ event: entry.event, data });
    const flags = Object.entries(data)
      .map(([name, value]) => ` --${name} ${typeof value === 'string' ? `'${value}'` : `'${JSON.stringify(value)}'`}`)
      .join('');
    return [{ command: `npx ksi send ${entry.event}${flags}` }, { command: `echo '${line}' | nc -U ${this.config.socketPath}` }];
  }

  /** A pushed line of the event as a connection reads it, with a placeholder for each payload field. */
  pushExample(definition: PushDefinition): string {
    const schema = this.catalogue.jsonSchemaOf(definition.payload, 'output') as JsonSchema;
    const data = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, placeholder(name, property)]));
    return JSON.stringify({ event: definition.name, data, timestamp: placeholder('timestamp', { type: 'number' }), push: true });
  }
}

/** Matches event names by namespace (the part before the first ":") and glob; either may be absent. */
function nameFilter(namespace?: string, eventGlob?: string): (event: string) => boolean {
  const matches = eventGlob ? picomatch(eventGlob) : undefined;
  return (event) => (!namespace || namespaceOf(event) === namespace) && (!matches || matches(event));
}

/**
 * A schema's top-level fields, one [name, type, required, default, description] each. A union's
 * fields are those of all its options; a field is required when every option requires it.
 */
function compactFields(schema: JsonSchema): CompactField[] {
  const options = schema.anyOf ?? schema.oneOf ?? [schema];
  const fields = new Map<string, JsonSchemaProperty>();
  for (const option of options) for (const [name, property] of Object.entries(option.properties ?? {})) if (!fields.has(name)) fields.set(name, property);
  return [...fields].map(([name, property]) => [
    name,
    typeOf(property),
    options.every((option) => option.required?.includes(name)),
    property.default ?? null,
    property.description ?? '',
  ]);
}

function typeOf(property: JsonSchemaProperty): string {
  if (Array.isArray(property.type)) return property.type.join('|');
  return property.type ?? 'any';
}

function placeholder(name: string, property?: JsonSchemaProperty): unknown {
  switch (property?.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return `<${name}>`;
  }
}
