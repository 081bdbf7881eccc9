import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';

const statements = {
  push: sql('INSERT INTO queue_items (namespace, queue, value, created_at) VALUES (?, ?, ?, ?)'),
  head: sql('SELECT id, value FROM queue_items WHERE namespace = ? AND queue = ? ORDER BY id LIMIT 1'),
  // Nodes sharing a PostgreSQL database pop at once: each takes a head no other is taking.
  popHead: sql(
    'SELECT id, value FROM queue_items WHERE namespace = ? AND queue = ? ORDER BY id LIMIT 1',
    'SELECT id, value FROM queue_items WHERE namespace = ? AND queue = ? ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED',
  ),
  deleteItem: sql('DELETE FROM queue_items WHERE id = ?'),
  length: sql('SELECT COUNT(*) FROM queue_items WHERE namespace = ? AND queue = ?'),
  deleteQueue: sql('DELETE FROM queue_items WHERE namespace = ? AND queue = ?'),
  queues: sql(
    'SELECT DISTINCT queue FROM queue_items WHERE namespace = ? ORDER BY queue',
    'SELECT DISTINCT queue COLLATE "C" AS queue FROM queue_items WHERE namespace = ? ORDER BY 1',
  ),
};

/** Every query of `queue_items`: FIFO queues of JSON text, ordered by id. */
@Injectable()
export class QueueRepository {
  constructor(private readonly storage: Storage) {}

  /** Appends; resolves once committed with the new element's position (0 = head). */
  push(namespace: string, queue: string, json: string, now: number): Promise<number> {
    return this.storage.write(async (tx) => {
      await tx.run(statements.push, [namespace, queue, json, now]);
      const [length] = await tx.column<number>(statements.length, [namespace, queue]);
      return length - 1;
    });
  }

  /** Removes the head; resolves once committed with its JSON text. */
  pop(namespace: string, queue: string): Promise<string | undefined> {
    return this.storage.write(async (tx) => {
      const head = await tx.get<{ id: number; value: string }>(statements.popHead, [namespace, queue]);
      if (!head) return undefined;
      await tx.run(statements.deleteItem, [head.id]);
      return head.value;
    });
  }

  async peek(namespace: string, queue: string): Promise<string | undefined> {
    return (await this.storage.get<{ value: string }>(statements.head, [namespace, queue]))?.value;
  }

  async length(namespace: string, queue: string): Promise<number> {
    const [length] = await this.storage.column<number>(statements.length, [namespace, queue]);
    return length;
  }

  /** Resolves once committed with the number of elements removed. */
  delete(namespace: string, queue: string): Promise<number> {
    return this.storage.writeStatement(statements.deleteQueue, [namespace, queue]);
  }

  names(namespace: string): Promise<string[]> {
    return this.storage.column<string>(statements.queues, [namespace]);
  }
}
