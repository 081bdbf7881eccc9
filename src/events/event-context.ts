import type { CorrelationId, PayloadOf, PushDefinition } from '../../libs/client/src';

/** A connection as handlers see it: an id, and a way to push lines to it. */
export interface ClientConnection {
  readonly id: string;
  readonly closed: boolean;
  /** Writes a pushed line; false when the connection is gone or was dropped for being too slow. */
  push<D extends PushDefinition>(definition: D, payload: PayloadOf<D>): boolean;
  /** Runs once when the connection closes. */
  onClose(listener: () => void): void;
  /** The agent this connection identified as (system:identify); absent for the local operator. */
  readonly agentId?: string;
  identify(agentId: string): void;
  /** Ends the connection after its pending replies are written. */
  end(): void;
}

/** Who asked, and under which correlation id; passed to every handler as its second argument. */
export interface EventContext {
  event: string;
  correlationId: CorrelationId;
  /** The socket connection that sent the request; absent for events raised inside the daemon. */
  connection?: ClientConnection;
  /** Set once a connection identified itself as an agent. */
  agentId?: string;
  /** A question the daemon asks itself every few seconds (cluster upkeep), and what it raises: not recorded, as it would flood the event log. */
  unrecorded?: true;
}

export function internalContext(event: string, parent?: EventContext): EventContext {
  return { event, correlationId: parent?.correlationId ?? null, agentId: parent?.agentId, ...(parent?.unrecorded && { unrecorded: true }) };
}

/** The parent of the questions a node asks itself again and again (upkeep, and each health probe): see EventContext.unrecorded. */
export const UPKEEP: Readonly<EventContext> = Object.freeze({ event: 'upkeep', correlationId: null, unrecorded: true });
