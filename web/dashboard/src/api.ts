import type { KsiEventName, ResultOf } from '../../../libs/client/src/contract';

/** A request the daemon refused, or one that never reached it. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Reply {
  data?: unknown;
  error?: string;
  code?: string;
}

/** A read the page makes to fill its panels: the daemon's event stream to this page leaves it out. */
export const read = <E extends KsiEventName>(event: E, data: Record<string, unknown> = {}) => request(event, data, true);
/** Something the user did (a decision): streamed like anyone's request. */
export const act = <E extends KsiEventName>(event: E, data: Record<string, unknown> = {}) => request(event, data, false);

/** The correlation ids of dashboards' reads (see DashboardGateway), left out of the events the page shows. */
export const isDashboardRead = (correlationId: unknown) => typeof correlationId === 'string' && correlationId.startsWith('dashboard-') && correlationId.includes('-reads-');

/** One request, as `ksi send` makes it: the reply's single result, or a RequestError naming what went wrong. */
async function request<E extends KsiEventName>(event: E, data: Record<string, unknown>, isRead: boolean): Promise<ResultOf<E>> {
  const response = await fetch('/api/request', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ event, data, read: isRead }),
  });
  const reply = (await response.json()) as Reply;
  if (reply.error !== undefined) throw new RequestError(reply.code ?? 'error', reply.error);
  const result = (Array.isArray(reply.data) ? reply.data[0] : reply.data) as ResultOf<E> & Reply;
  if (result?.error !== undefined) throw new RequestError(result.code ?? 'error', result.error);
  return result;
}

/** An event as monitor:subscribe streams it. */
export interface StreamedEvent {
  event_id: string;
  event_name: string;
  timestamp: number;
  correlation_id: string | number | boolean | null;
  agent_id?: string | null;
  outcome?: string | null;
  duration_ms?: number | null;
  data: unknown;
}

/** closed: the browser gave up (the daemon restarted with a new token, or refused the page). */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** Every event of the daemon as it happens; the browser reconnects by itself, and `ready` says the stream (re)started. */
export function openStream(handlers: { event: (event: StreamedEvent) => void; ready: () => void; status: (status: StreamStatus) => void }): () => void {
  const source = new EventSource('/api/stream');
  source.addEventListener('ready', () => {
    handlers.status('live');
    handlers.ready();
  });
  source.onmessage = (message) => handlers.event(JSON.parse(message.data as string) as StreamedEvent);
  source.onerror = () => handlers.status(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  return () => source.close();
}
