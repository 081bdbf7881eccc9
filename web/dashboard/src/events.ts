import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { TreeNode } from '../../../libs/client/src/contract';
import { read, type StreamedEvent } from './api';
import { clock } from './format';

function matches(event: StreamedEvent, filter: string): boolean {
  if (!filter) return true;
  const text = filter.toLowerCase();
  return event.event_name.toLowerCase().includes(text) || (event.agent_id ?? '').toLowerCase().includes(text);
}

function Tree({ nodes, start }: { nodes: TreeNode[]; start: number }) {
  return html`<ul class="tree">
    ${nodes.map(
      (node) => html`<li key=${node.event_id}>
        <span class="mono">${node.event_name}</span>
        <span class="muted"> +${Math.round((node.timestamp - start) * 1000)}ms${node.duration_ms !== null ? ` ${node.duration_ms}ms` : ''}${node.outcome && node.outcome !== 'ok' ? ` ${node.outcome}` : ''}</span>
        ${node.children.length > 0 && html`<${Tree} nodes=${node.children} start=${start} />`}
      </li>`,
    )}
  </ul>`;
}

/** The live event stream, newest first, with a filter; a click shows the event's correlation tree. */
export function EventsPanel({ events }: { events: StreamedEvent[] }) {
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<{ event: StreamedEvent; tree?: TreeNode[]; error?: string } | undefined>();
  const open = async (event: StreamedEvent) => {
    if (event.correlation_id === null) return setSelected({ event, error: 'This event has no correlation id: nothing else is linked to it.' });
    setSelected({ event });
    try {
      const { tree } = await read('correlation:tree', { correlation_id: event.correlation_id });
      setSelected({ event, tree });
    } catch (error) {
      setSelected({ event, error: (error as Error).message });
    }
  };
  const shown = events.filter((event) => matches(event, filter));
  return html`<section class="panel events" data-testid="events">
    <h2>Events</h2>
    <input type="search" placeholder="Filter by event or agent, e.g. completion:" value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} data-testid="event-filter" />
    <div class="event-columns">
      <ol class="event-list">
        ${shown.map(
          (event) => html`<li key=${event.event_id} data-testid="event-row" data-event-name=${event.event_name} class=${selected?.event.event_id === event.event_id ? 'selected' : ''} onClick=${() => open(event)}>
            <span class="muted mono">${clock(event.timestamp)}</span> <span class="mono">${event.event_name}</span>${event.agent_id ? html` <span class="muted">${event.agent_id}</span>` : ''}${event.outcome && event.outcome !== 'ok' ? html` <span class="error">${event.outcome}</span>` : ''}
          </li>`,
        )}
      </ol>
      ${selected &&
      html`<aside class="trace" data-testid="trace">
        <h3>${selected.event.event_name} <span class="muted mono">${String(selected.event.correlation_id ?? '')}</span></h3>
        ${selected.error ? html`<p class="error">${selected.error}</p>` : selected.tree ? html`<${Tree} nodes=${selected.tree} start=${selected.tree[0]?.timestamp ?? 0} />` : html`<p class="muted">Loading…</p>`}
        <pre>${JSON.stringify(selected.event.data, null, 2)}</pre>
      </aside>`}
    </div>
  </section>`;
}
