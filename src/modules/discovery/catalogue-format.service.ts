import { Inject, Injectable } from '@nestjs/common';
import picomatch from 'picomatch';
import type { CompactEventDescription, EventDescription, McpToolDescription } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventCatalogue, type CatalogueEntry } from '../../events/event-catalogue';

type JsonSchema = { properties?: Record<string, JsonSchemaProperty>; required?: string[] };
type JsonSchemaProperty = { type?: string | string[]; default?: unknown; description?: string; anyOf?: unknown[] };
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
    const matches = eventGlob ? picomatch(eventGlob) : undefined;
    const seen = new Set<string>();
    return this.catalogue.entries().filter((entry) => {
      if (seen.has(entry.event)) return false;
      seen.add(entry.event);
      return (!namespace || entry.namespace === namespace) && (!matches || matches(entry.event));
    });
  }

  describe(entry: CatalogueEntry, style: FormatStyle, detail = true): EventDescription | CompactEventDescription | McpToolDescription {
    const parameters = this.catalogue.parametersOf(entry);
    const summary = entry.definition.summary;
    if (style === 'mcp') return { name: entry.event, description: summary, inputSchema: { type: 'object', ...parameters } };
    if (style === 'compact') {
      return { m: entry.module, h: entry.handler, s: summary, ...(detail && { p: compactParameters(parameters as JsonSchema) }) };
    }
    return { module: entry.module, handler: entry.handler, summary, ...(detail && { parameters }) };
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
}

function compactParameters(schema: JsonSchema): NonNullable<CompactEventDescription['p']> {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => [
    name,
    typeOf(property),
    required.has(name),
    property.default ?? null,
    property.description ?? '',
  ]);
}

function typeOf(property: JsonSchemaProperty): string {
  if (Array.isArray(property.type)) return property.type.join('|');
  return property.type ?? (property.anyOf ? 'any' : 'any');
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
    case 'string':
      return `<${name}>`;
    default:
      return `<${name}>`;
  }
}
