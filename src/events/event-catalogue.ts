import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { BROADCAST_ONLY_EVENTS, LIFECYCLE_EVENTS } from '../../libs/client/src';
import type { EventContext } from './event-context';
import { EVENT_DECLARATION, type EventDeclaration } from './handles.decorator';

export interface CatalogueEntry {
  event: string;
  namespace: string;
  /** The Nest module that owns the handler, e.g. "state" for StateModule. */
  module: string;
  /** Class and method, e.g. "StateHandlers.get". */
  handler: string;
  declaration: EventDeclaration;
  invoke(data: Record<string, unknown>, context: EventContext): unknown;
}

/** Every declared event, found once at start from the `@Handles` declarations: the live catalogue. */
@Injectable()
export class EventCatalogue implements OnModuleInit {
  private readonly byEvent = new Map<string, CatalogueEntry[]>();
  private readonly schemas = new WeakMap<EventDeclaration, Record<string, unknown>>();
  private readonly internal = new Set<string>([...LIFECYCLE_EVENTS, ...BROADCAST_ONLY_EVENTS]);
  private externalNames: string[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias) continue;
      const prototype = Object.getPrototypeOf(instance);
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const declaration: EventDeclaration | undefined = Reflect.getMetadata(EVENT_DECLARATION, prototype[methodName]);
        if (declaration) this.add(declaration, instance, wrapper.host?.name ?? 'core', prototype.constructor.name);
      }
    }
    this.externalNames = [...this.byEvent.keys()].filter((event) => !this.internal.has(event)).sort();
  }

  /** The handlers of an external event, in registration order; undefined when there are none. */
  handlersOf(event: string): CatalogueEntry[] | undefined {
    return this.byEvent.get(event);
  }

  isInternal(event: string): boolean {
    return this.internal.has(event);
  }

  /** Names of every event a client may send, sorted. */
  eventNames(): readonly string[] {
    return this.externalNames;
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

  entries(): CatalogueEntry[] {
    return this.externalNames.flatMap((event) => this.byEvent.get(event) ?? []);
  }

  modules(): string[] {
    return [...new Set([...this.byEvent.values()].flat().map((entry) => entry.module))];
  }

  /** The JSON Schema of an event's parameters, generated from the same schema that validates them. */
  parametersOf(entry: CatalogueEntry): Record<string, unknown> {
    let schema = this.schemas.get(entry.declaration);
    if (!schema) {
      const { $schema: _dialect, ...rest } = z.toJSONSchema(entry.declaration.params, { io: 'input', unrepresentable: 'any' });
      schema = rest;
      this.schemas.set(entry.declaration, schema);
    }
    return schema;
  }

  private add(declaration: EventDeclaration, instance: Record<string, unknown>, moduleClass: string, className: string): void {
    if (declaration.internal) {
      this.internal.add(declaration.event);
      return;
    }
    const entry: CatalogueEntry = {
      event: declaration.event,
      namespace: namespaceOf(declaration.event),
      module: moduleClass.replace(/Module$/, '').replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase(),
      handler: `${className}.${declaration.methodName}`,
      declaration,
      invoke: (data, context) => declaration.method.call(instance, data, context),
    };
    const list = this.byEvent.get(declaration.event);
    if (list) list.push(entry);
    else this.byEvent.set(declaration.event, [entry]);
  }
}

export function namespaceOf(event: string): string {
  const colon = event.indexOf(':');
  return colon === -1 ? 'default' : event.slice(0, colon);
}
