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
import { mergedFields, shapesOf, type JsonSchema, type SchemaField } from '../../../libs/client/src/schema-fields';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventCatalogue, namespaceOf, type CatalogueEntry } from '../../events/event-catalogue';

type CompactField = NonNullable<CompactEventDescription['p']>[number];
export type FormatStyle = 'verbose' | 'compact' | 'mcp';
/** What discovery shows besides names and summaries: parameter schemas, and result and payload schemas. */
export interface Detail {
  parameters: boolean;
  results: boolean;
}

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
    return this.catalogue.pushDefinitions().filter((definition) => matches(definition.name));
  }

  describe(entry: CatalogueEntry, style: FormatStyle, detail: Detail): EventDescription | CompactEventDescription | McpToolDescription {
    if (style === 'mcp') return this.tool(entry);
    return style === 'compact' ? this.compact(entry, detail) : this.verbose(entry, detail);
  }

  /** What an MCP client offers as a tool: name, summary and the params' JSON Schema. */
  tool(entry: CatalogueEntry): McpToolDescription {
    return { name: entry.event, description: entry.definition.summary, inputSchema: { type: 'object', ...this.catalogue.parametersOf(entry) } };
  }

  verbose(entry: CatalogueEntry, detail: Detail): EventDescription {
    const { summary, result } = entry.definition;
    return {
      kind: 'request',
      module: entry.module,
      handler: entry.handler,
      summary,
      ...(detail.parameters && { parameters: this.catalogue.parametersOf(entry) }),
      ...(detail.results && { result: this.catalogue.jsonSchemaOf(result, 'output') }),
    };
  }

  private compact(entry: CatalogueEntry, detail: Detail): CompactEventDescription {
    const { summary, result } = entry.definition;
    return {
      k: 'request',
      m: entry.module,
      h: entry.handler,
      s: summary,
      ...(detail.parameters && { p: compactFields(this.catalogue.parametersOf(entry)) }),
      ...(detail.results && { r: compactFields(this.catalogue.jsonSchemaOf(result, 'output')) }),
    };
  }

  describePush(definition: PushDefinition, style: Exclude<FormatStyle, 'mcp'>, detail: Detail): PushDescription | CompactPushDescription {
    if (style === 'verbose') return this.verbosePush(definition, detail);
    return { k: 'push', s: definition.summary, ...(detail.results && { d: compactFields(this.catalogue.jsonSchemaOf(definition.payload, 'output')) }) };
  }

  verbosePush(definition: PushDefinition, detail: Detail): PushDescription {
    return { kind: 'push', summary: definition.summary, ...(detail.results && { payload: this.catalogue.jsonSchemaOf(definition.payload, 'output') }) };
  }

  /** Example command lines for an event, with a placeholder for each required parameter. */
  examples(entry: CatalogueEntry): { command: string }[] {
    const [fields] = shapesOf(this.catalogue.parametersOf(entry));
    const data = Object.fromEntries(fields.filter((field) => field.required).map((field) => [field.name, placeholder(field)]));
    const line = JSON.stringify({ event: entry.event, data });
    const flags = Object.entries(data)
      .map(([name, value]) => ` --${name} ${typeof value === 'string' ? `'${value}'` : `'${JSON.stringify(value)}'`}`)
      .join('');
    return [{ command: `npx ksi send ${entry.event}${flags}` }, { command: `echo '${line}' | nc -N -U ${this.config.socketPath}` }];
  }

  /** A pushed line of the event as a connection reads it, with a placeholder for each payload field (a union's: its first shape's). */
  pushExample(definition: PushDefinition): string {
    const [fields] = shapesOf(this.catalogue.jsonSchemaOf(definition.payload, 'output'));
    const data = Object.fromEntries(fields.map((field) => [field.name, placeholder(field)]));
    return JSON.stringify({ event: definition.name, data, timestamp: placeholder({ name: 'timestamp', type: 'number' }), push: true });
  }
}

/** Matches event names by namespace (the part before the first ":") and glob; either may be absent. */
function nameFilter(namespace?: string, eventGlob?: string): (event: string) => boolean {
  const matches = eventGlob ? picomatch(eventGlob) : undefined;
  return (event) => (!namespace || namespaceOf(event) === namespace) && (!matches || matches(event));
}

/** A schema's fields as [name, type, required, default, description]; a union's are merged (see `mergedFields`). */
function compactFields(schema: JsonSchema): CompactField[] {
  return mergedFields(shapesOf(schema)).map((field) => [field.name, field.type, field.required, field.default ?? null, field.description]);
}

/** An example value: the field's constant when it has one (a union's discriminator), else one of its (first) type. */
function placeholder(field: Pick<SchemaField, 'name' | 'type' | 'const'>): unknown {
  if (field.const !== undefined) return field.const;
  switch (field.type.split('|')[0]) {
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
      return `<${field.name}>`;
  }
}
