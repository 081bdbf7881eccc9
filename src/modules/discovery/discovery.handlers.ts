import { Injectable } from '@nestjs/common';
import {
  discoverParams,
  emptyParams,
  helpParams,
  moduleInspectParams,
  type DiscoverResult,
  type HelpResult,
  type ModuleEventsResult,
  type ModuleInspectResult,
  type ModuleListResult,
  type z,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventCatalogue } from '../../events/event-catalogue';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { RequestGuards } from '../../events/request-guard';
import { CatalogueFormatService } from './catalogue-format.service';

@Injectable()
export class DiscoveryHandlers {
  constructor(
    private readonly format: CatalogueFormatService,
    private readonly catalogue: EventCatalogue,
    private readonly guards: RequestGuards,
  ) {}

  @Handles('system:discover', { summary: 'Every event with its module, summary and JSON Schema of parameters', params: discoverParams })
  discover({ namespace, event, format_style, detail }: z.output<typeof discoverParams>, context: EventContext): DiscoverResult {
    // An agent sees only the events it may send: what an MCP bridge offers it as tools.
    const entries = this.format.select(namespace, event).filter((entry) => context.agentId === undefined || !this.guards.deny(entry.event, context));
    const events: DiscoverResult['events'] = {};
    for (const entry of entries) events[entry.event] = this.format.describe(entry, format_style, detail);
    return { events, total: entries.length, namespaces: [...new Set(entries.map((entry) => entry.namespace))].sort() };
  }

  @Handles('system:help', { summary: "One event's description, parameters and example commands", params: helpParams })
  help({ event, format_style }: z.output<typeof helpParams>): HelpResult {
    const entry = this.catalogue.handlersOf(event)?.[0];
    if (!entry) {
      throw new EventError('not_found', `Event not found: ${event}`, { suggestions: this.catalogue.suggest(event) });
    }
    const description = this.format.describe(entry, format_style === 'mcp' ? 'mcp' : 'verbose');
    if (format_style === 'mcp') return description as HelpResult;
    return { event, ...(description as object), examples: this.format.examples(entry) } as HelpResult;
  }

  @Handles('module:list', { summary: 'The daemon modules and the events each handles', params: emptyParams })
  modules(): ModuleListResult {
    const byModule = new Map<string, string[]>();
    for (const entry of this.catalogue.entries()) byModule.set(entry.module, [...(byModule.get(entry.module) ?? []), entry.event]);
    const modules = [...byModule].map(([name, events]) => ({ name, handlers: events.length, events }));
    return { modules, count: modules.length };
  }

  @Handles('module:events', { summary: 'Every event with the handlers that answer it', params: emptyParams })
  events(): ModuleEventsResult {
    const events: ModuleEventsResult['events'] = {};
    for (const entry of this.catalogue.entries()) (events[entry.event] ??= []).push({ module: entry.module, handler: entry.handler });
    return { events, total_events: Object.keys(events).length };
  }

  @Handles('module:inspect', { summary: "One module's handlers", params: moduleInspectParams })
  inspect({ module_name }: z.output<typeof moduleInspectParams>): ModuleInspectResult {
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
