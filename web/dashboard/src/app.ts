import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ResultOf } from '../../../libs/client/src/contract';
import { AgentsPanel, type Agent, type AgentCost } from './agents';
import { isDashboardRead, openStream, read, type StreamedEvent, type StreamStatus } from './api';
import { ApprovalsPanel, type Approval } from './approvals';
import { CostsChart, type HourlyCosts } from './costs-chart';
import { EventsPanel } from './events';
import { QueuePanel, type QueueStatus, type RetryStatus } from './queue';

/** Events the page keeps; older ones are in the log (ksi monitor, monitor:get_events). */
const EVENTS_KEPT = 500;
/** A busy fleet sends many events a second: the panels reload at most this often. */
const RELOAD_INTERVAL_MS = 500;

const STATUS_TEXT: Record<StreamStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'daemon unreachable, retrying…',
  closed: 'disconnected: open the address `ksi dashboard` prints (a restarted daemon has a new token)',
};

interface Snapshot {
  health?: ResultOf<'system:health'>;
  agents?: Agent[];
  costs: Map<string, AgentCost>;
  queue?: QueueStatus;
  retries?: RetryStatus;
  approvals?: Approval[];
  hourly?: HourlyCosts;
}

async function loadSnapshot(): Promise<Snapshot> {
  const [health, { agents }, byAgent, queue, retries, { approvals }, hourly] = await Promise.all([
    read('system:health'),
    read('agent:list'),
    read('cost:summary', { by: 'agent' }),
    read('completion:queue_status'),
    read('completion:retry_status'),
    read('approval:list', { status: 'pending' }),
    read('cost:summary', { by: 'hour', since: '48h' }),
  ]);
  const costs = new Map(byAgent.rows.flatMap((row) => (row.key === null ? [] : [[row.key, { cost_usd: row.cost_usd, turns: row.turns }] as const])));
  return { health, agents, costs, queue, retries, approvals, hourly };
}

export function App() {
  const [snapshot, setSnapshot] = useState<Snapshot>({ costs: new Map() });
  const [events, setEvents] = useState<StreamedEvent[]>([]);
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [failure, setFailure] = useState<string | undefined>();
  const reload = useRef<() => void>(() => undefined);

  useEffect(() => {
    // One reload at a time; events during one ask for another after it, RELOAD_INTERVAL_MS apart.
    let running = false;
    let again = false;
    const run = async () => {
      if (running) return void (again = true);
      running = true;
      try {
        setSnapshot(await loadSnapshot());
        setFailure(undefined);
      } catch (error) {
        setFailure((error as Error).message);
      }
      setTimeout(() => {
        running = false;
        if (again) {
          again = false;
          void run();
        }
      }, RELOAD_INTERVAL_MS);
    };
    reload.current = () => void run();
    void run();
    read('monitor:get_events', { limit: EVENTS_KEPT })
      .then(({ events: recent }) => {
        const history = (recent as StreamedEvent[]).filter((old) => !isDashboardRead(old.correlation_id));
        setEvents((live) => [...live, ...history.filter((old) => !live.some((event) => event.event_id === old.event_id))].slice(0, EVENTS_KEPT));
      })
      .catch((error: Error) => setFailure(error.message));
    return openStream({
      event: (event) => {
        setEvents((previous) => [event, ...previous].slice(0, EVENTS_KEPT));
        reload.current();
      },
      ready: () => reload.current(),
      status: setStatus,
    });
  }, []);

  const health = snapshot.health;
  return html`<header class="top">
      <h1>KSI</h1>
      ${health && html`<span class="muted">v${health.version} · pid ${health.pid} · ${health.status} · ${health.connections} connections · ${health.memory.rss_mb} MB</span>`}
      <span class=${`live ${status}`} data-testid="stream-status">${STATUS_TEXT[status]}</span>
    </header>
    ${failure && html`<p class="banner error" role="alert">${failure}</p>`}
    <main class="grid">
      <${AgentsPanel} agents=${snapshot.agents} costs=${snapshot.costs} />
      <${ApprovalsPanel} approvals=${snapshot.approvals} onDecided=${() => reload.current()} />
      <${QueuePanel} queue=${snapshot.queue} retries=${snapshot.retries} />
      <${CostsChart} costs=${snapshot.hourly} />
      <${EventsPanel} events=${events} />
    </main>`;
}
