import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { DaemonRun } from '../lifecycle/daemon-run.entity';
import { Checkpoint } from '../modules/checkpoint/checkpoint.entity';
import { CompletionRequest } from '../modules/completion/completion-request.entity';
import { CompositionIndexEntry } from '../modules/composition/composition-index.entity';
import { DynamicComposition } from '../modules/composition/dynamic-composition.entity';
import { SessionLink } from '../modules/completion/session-link.entity';
import { Agent } from '../modules/agent/agent.entity';
import { AgentIdentity } from '../modules/agent/agent-identity.entity';
import { AgentMessage } from '../modules/agent/agent-message.entity';
import { BusMessageRow } from '../modules/message/bus-message.entity';
import { EventLogEntry } from '../modules/monitor/event-log.entity';
import { AgentPermission } from '../modules/permission/agent-permission.entity';
import { Sandbox } from '../modules/permission/sandbox.entity';
import { QueueItem } from '../modules/state/queue-item.entity';
import { StateEntry } from '../modules/state/state-entry.entity';
import { migrations } from './migrations';
import { WriteQueue } from './write-queue';

describe('database (real SQLite files)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-db-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the migrations build exactly the schema the entities describe', async () => {
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database: path.join(dir, 'schema.db'),
      entities: [StateEntry, QueueItem, CompletionRequest, SessionLink, DaemonRun, Checkpoint, CompositionIndexEntry, DynamicComposition, AgentPermission, Sandbox, BusMessageRow, Agent, AgentMessage, AgentIdentity, EventLogEntry],
      migrations,
      migrationsRun: true,
    });
    await dataSource.initialize();
    const pending = await dataSource.driver.createSchemaBuilder().log();
    await dataSource.destroy();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  describe('WriteQueue', () => {
    let db: Database.Database;
    let queue: WriteQueue;
    beforeEach(() => {
      db = new Database(path.join(dir, 'queue.db'));
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
      queue = new WriteQueue(db);
    });
    afterEach(() => db.close());

    it('commits jobs queued together in one transaction, resolving after the commit', async () => {
      const observer = new Database(path.join(dir, 'queue.db'), { readonly: true });
      const visibleToOthers: number[] = [];
      const jobs = Array.from({ length: 20 }, (_, i) =>
        queue.run((conn) => {
          conn.prepare('INSERT INTO t VALUES (?)').run(`v${i}`);
          visibleToOthers.push((observer.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n);
          return i;
        }),
      );
      expect(await Promise.all(jobs)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(visibleToOthers.every((n) => n === 0)).toBe(true);
      expect(observer.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 20 });
      observer.close();
    });

    it('rolls back only the job that fails', async () => {
      const results = await Promise.allSettled([
        queue.run((conn) => conn.prepare('INSERT INTO t VALUES (?)').run('kept')),
        queue.run((conn) => {
          conn.prepare('INSERT INTO t VALUES (?)').run('undone');
          throw new Error('job failed');
        }),
        queue.run((conn) => conn.prepare('INSERT INTO t VALUES (?)').run('kept')),
        queue.run((conn) => conn.prepare('INSERT INTO t VALUES (?)').run('also kept')),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual(['also kept', 'kept']);
    });

    it('starts a new batch for jobs queued after a flush', async () => {
      await queue.run((conn) => conn.prepare('INSERT INTO t VALUES (?)').run('first'));
      await queue.run((conn) => conn.prepare('INSERT INTO t VALUES (?)').run('second'));
      expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 2 });
    });
  });
});
