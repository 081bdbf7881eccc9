import { Injectable } from '@nestjs/common';
import {
  moduleEvents,
  moduleInspect,
  moduleList,
  systemDiscover,
  systemHelp,
  type DiscoverResult,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventCatalogue } from '../../events/event-catalogue';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { RequestGuards } from '../../events/request-guard';
import { CatalogueFormatService, type Detail } from './catalogue-format.service';

/** One event's help shows all its schemas. */
const EVERYTHING: Detail = { parameters: true, results: true };

@Injectable()
export class DiscoveryHandlers {
  constructor(
    private readonly format: CatalogueFormatService,
    private readonly catalogue: EventCatalogue,
    private readonly guards: RequestGuards,
  ) {}

  @Handles(systemDiscover)
  discover({ namespace, event, format_style, detail, include_results }: ParamsOut<typeof systemDiscover>, context: EventContext): HandlerResult<typeof systemDiscover> {
    // An agent sees only the events it may send: what an MCP bridge offers it as tools.
    const entries = this.format.select(namespace, event).filter((entry) => context.agentId === undefined || !this.guards.deny(entry.event, context));
    // Results and payloads only when asked: they would triple the default reply, past the Python client's 64 KiB line.
    const shown = { parameters: detail, results: detail && include_results };
    const events: DiscoverResult['events'] = {};
    for (const entry of entries) events[entry.event] = this.format.describe(entry, format_style, shown);
    const namespaces = [...new Set(entries.map((entry) => entry.namespace))].sort();
    // MCP lists tools, what an agent may call: pushes are no tools.
    if (format_style === 'mcp') return { events, total: entries.length, namespaces };
    const pushes: NonNullable<DiscoverResult['pushes']> = {};
    for (const definition of this.format.selectPushes(namespace, event)) pushes[definition.name] = this.format.describePush(definition, format_style, shown);
    return { events, pushes, total: entries.length, namespaces };
  }

  @Handles(systemHelp)
  help({ event, format_style }: ParamsOut<typeof systemHelp>): HandlerResult<typeof systemHelp> {
    // Internal events are not shown; a pushed event is no tool an MCP client could call.
    const definition = this.catalogue.definitionOf(event);
    const entry = definition?.kind === 'request' ? this.catalogue.handlersOf(event)?.[0] : undefined;
    if (entry) {
      if (format_style === 'mcp') return this.format.tool(entry);
      return { event, ...this.format.verbose(entry, EVERYTHING), examples: this.format.examples(entry) };
    }
    if (definition?.kind === 'push' && format_style !== 'mcp') return { event, ...this.format.verbosePush(definition, EVERYTHING), example: this.format.pushExample(definition) };
    throw new EventError('not_found', `Event not found: ${event}`, { suggestions: this.catalogue.suggest(event) });
  }

  @Handles(moduleList)
  modules(): HandlerResult<typeof moduleList> {
    const byModule = new Map<string, string[]>();
    for (const entry of this.catalogue.entries()) byModule.set(entry.module, [...(byModule.get(entry.module) ?? []), entry.event]);
    const modules = [...byModule].map(([name, events]) => ({ name, handlers: events.length, events }));
    return { modules, count: modules.length };
  }

  @Handles(moduleEvents)
  events(): HandlerResult<typeof moduleEvents> {
    const events: HandlerResult<typeof moduleEvents>['events'] = {};
    for (const entry of this.catalogue.entries()) (events[entry.event] ??= []).push({ module: entry.module, handler: entry.handler });
    return { events, total_events: Object.keys(events).length };
  }

  @Handles(moduleInspect)
  inspect({ module_name }: ParamsOut<typeof moduleInspect>): HandlerResult<typeof moduleInspect> {
    const handlers = this.catalogue
      .entries()
      .filter((entry) => entry.module === module_name)
      .map((entry) => ({ event: entry.event, handler: entry.handler, summary: entry.definition.summary }));
    if (handlers.length === 0) {
      throw new EventError('not_found', `Module not found: ${module_name}. Known modules: ${this.catalogue.modules().join(', ')}`);
    }
    return { module: { name: module_name, handlers, stats: { handler_count: handlers.length } } };
  }
}
