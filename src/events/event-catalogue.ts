import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { EVENT_DEFINITIONS, isNotification, type AnsweredDefinition, type EventDefinition, type PushDefinition } from '../../libs/client/src';

/** The definitions the daemon serves: the contract's (tests add probes of their own). */
export const EVENT_CONTRACT = Symbol('ksi:event-contract');
export const eventContractProvider = { provide: EVENT_CONTRACT, useValue: EVENT_DEFINITIONS };
import type { EventContext } from './event-context';
import { HandlerMarker, ListenerMarker, type AccessRules } from './handles.decorator';
import { MethodDiscovery } from './method-discovery';

export interface CatalogueEntry {
  event: string;
  namespace: string;
  /** The Nest module that owns the handler, e.g. "state" for StateModule. */
  module: string;
  /** Class and method, e.g. "StateHandlers.get". */
  handler: string;
  definition: AnsweredDefinition;
  access: AccessRules;
  /** See HandlerOptions.writesInOrder. */
  writesInOrder: boolean;
  invoke(data: Record<string, unknown>, context: EventContext): unknown;
}

type JsonSchema = Record<string, unknown>;

/**
 * Every event, from the contract's definitions and the `@Handles` declarations found at start: the
 * live catalogue. It refuses to start when the two disagree.
 */
@Injectable()
export class EventCatalogue implements OnModuleInit {
  private readonly byEvent = new Map<string, CatalogueEntry[]>();
  private readonly definitions: Map<string, EventDefinition>;
  /** Generated JSON Schemas, per direction: a schema's input and output forms differ (defaults, transforms). */
  private readonly schemas = { input: new WeakMap<z.ZodType, JsonSchema>(), output: new WeakMap<z.ZodType, JsonSchema>() };
  private externalNames: string[] = [];

  constructor(
    private readonly methods: MethodDiscovery,
    @Inject(EVENT_CONTRACT) private readonly contract: readonly EventDefinition[],
  ) {
    this.definitions = new Map(contract.map((definition) => [definition.name, definition]));
  }

  onModuleInit(): void {
    const problems = this.contract.filter((definition) => this.definitions.get(definition.name) !== definition).map(({ name }) => `${name} is defined twice in the contract`);
    for (const found of this.methods.methodsWith(HandlerMarker)) {
      const { definition, access, writesInOrder } = found.metadata;
      const handler = `${found.className}.${found.methodName}`;
      const declared = this.definitions.get(definition.name);
      if (declared !== definition) {
        problems.push(declared ? `${handler} handles a definition of ${definition.name} that is not the contract's` : `${handler} handles ${definition.name}, which the contract does not define`);
        continue;
      }
      if (isNotification(definition)) problems.push(`${handler} handles ${definition.name}, a notification: listen to it with @Listens`);
      const entry: CatalogueEntry = {
        event: definition.name,
        namespace: namespaceOf(definition.name),
        module: found.moduleName.replace(/Module$/, '').replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase(),
        handler,
        definition,
        access,
        writesInOrder,
        invoke: (data, context) => (found.method as (data: unknown, context: EventContext) => unknown).call(found.instance, data, context),
      };
      const list = this.byEvent.get(definition.name);
      if (list) list.push(entry);
      else this.byEvent.set(definition.name, [entry]);
    }
    for (const found of this.methods.methodsWith(ListenerMarker)) {
      const listener = `${found.className}.${found.methodName}`;
      const { name } = found.metadata;
      if (this.definitions.get(name) !== found.metadata) problems.push(`${listener} listens to ${name}, which the contract does not define`);
      else if (!isNotification(found.metadata)) problems.push(`${listener} listens to ${name}, which handlers answer: handle it with @Handles`);
    }
    for (const definition of this.definitions.values()) {
      if (definition.kind === 'request' && !this.byEvent.has(definition.name)) problems.push(`${definition.name} is a request in the contract but nothing handles it`);
    }
    if (problems.length > 0) throw new Error(`The event catalogue does not match the contract:\n- ${problems.join('\n- ')}`);
    this.externalNames = [...this.byEvent.keys()].filter((event) => this.definitions.get(event)?.kind === 'request').sort();
  }

  /** The handlers of an event, in registration order; undefined when there are none. */
  handlersOf(event: string): CatalogueEntry[] | undefined {
    return this.byEvent.get(event);
  }

  definitionOf(event: string): EventDefinition | undefined {
    return this.definitions.get(event);
  }

  /** Raised inside the daemon or pushed: never sent by a client. */
  isInternal(event: string): boolean {
    const kind = this.definitions.get(event)?.kind;
    return kind !== undefined && kind !== 'request';
  }

  /** Names of every event a client may send, sorted. */
  eventNames(): readonly string[] {
    return this.externalNames;
  }

  /** Every push definition, sorted by name. */
  pushDefinitions(): PushDefinition[] {
    return [...this.definitions.values()].filter((definition): definition is PushDefinition => definition.kind === 'push').sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Close names for a mistyped event: by edit distance, else the events of the same namespace. */
  suggest(event: string): string[] {
    const limit = Math.max(2, Math.floor(event.length / 4));
    const close = this.externalNames
      .map((name) => ({ name, score: distance(event, name) }))
      .filter(({ score }) => score <= limit)
      .sort((a, b) => a.score - b.score)
      .map(({ name }) => name);
    if (close.length > 0) return close.slice(0, 3);
    const namespace = namespaceOf(event);
    return this.externalNames.filter((name) => namespaceOf(name) === namespace).slice(0, 5);
  }

  /** The handlers of every external event. */
  entries(): CatalogueEntry[] {
    return this.externalNames.flatMap((event) => this.byEvent.get(event) ?? []);
  }

  modules(): string[] {
    return [...new Set([...this.byEvent.values()].flat().map((entry) => entry.module))];
  }

  /** The JSON Schema of a zod schema (params, result or payload), generated once. */
  jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    let json = this.schemas[io].get(schema);
    if (!json) {
      const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
      json = rest;
      this.schemas[io].set(schema, json);
    }
    return json;
  }

  /** The JSON Schema of an event's parameters, generated from the same schema that validates them. */
  parametersOf(entry: CatalogueEntry): JsonSchema {
    return this.jsonSchemaOf(entry.definition.params, 'input');
  }
}

export function namespaceOf(event: string): string {
  const colon = event.indexOf(':');
  return colon === -1 ? 'default' : event.slice(0, colon);
}
