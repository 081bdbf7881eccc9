import { Injectable } from '@nestjs/common';
import type { PayloadOf, PushDefinition } from '../../libs/client/src';
import type { Connection } from './connection';

/** The open client connections, for pushes that go to everyone and for draining at shutdown. */
@Injectable()
export class ConnectionRegistry {
  private readonly connections = new Set<Connection>();

  add(connection: Connection): void {
    this.connections.add(connection);
    connection.onClose(() => this.connections.delete(connection));
  }

  get size(): number {
    return this.connections.size;
  }

  all(): Connection[] {
    return [...this.connections];
  }

  /** Pushes a line to every open connection; returns how many took it. */
  broadcast<D extends PushDefinition>(definition: D, payload: PayloadOf<D>): number {
    let delivered = 0;
    for (const connection of this.connections) if (connection.push(definition, payload)) delivered++;
    return delivered;
  }
}
