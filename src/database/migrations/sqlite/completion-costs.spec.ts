import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { sqliteMigrations as migrations } from './index';

describe('the completion costs migration', () => {
  /** Where the named migration is in the list; an old install ran the ones before it. */
  const migrationIndex = (name: string) => {
    const index = migrations.findIndex((migration) => migration.name === name);
    if (index < 0) throw new Error(`No migration named ${name}`);
    return index;
  };
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-costs-db-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads the costs of requests finished before it from their stored result, and their agent's profile", async () => {
    const file = path.join(dir, 'upgrade.db');
    const old = new DataSource({ type: 'better-sqlite3', database: file, migrations: migrations.slice(0, migrationIndex('CompletionCosts1764060000000')), migrationsRun: true });
    await old.initialize();
    const response = { total_cost_usd: 0.25, num_turns: 3, duration_api_ms: 900, usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 40 } };
    const insert = `INSERT INTO completion_requests (request_id, seq, status, queue_key, priority, model, payload, attempts, max_attempts, next_attempt_at, result, agent_id, queued_at) VALUES (?, ?, ?, 'q', 1, 'sonnet', '{}', 1, 3, 0, ?, ?, 0)`;
    await old.query(insert, ['done', 1, 'completed', JSON.stringify({ ksi: {}, response }), 'worker']);
    await old.query(insert, ['failed', 2, 'failed', null, 'gone']);
    await old.query(`INSERT INTO agents (agent_id, profile, status, config, restarts, created_at) VALUES ('worker', 'researcher', 'idle', '{}', 0, 0)`);
    await old.destroy();

    const upgraded = new DataSource({ type: 'better-sqlite3', database: file, migrations, migrationsRun: true });
    await upgraded.initialize();
    const rows = await upgraded.query(
      'SELECT request_id, profile, cost_usd, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, num_turns, duration_api_ms FROM completion_requests ORDER BY seq',
    );
    await upgraded.destroy();
    expect(rows).toEqual([
      { request_id: 'done', profile: 'researcher', cost_usd: 0.25, input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 40, num_turns: 3, duration_api_ms: 900 },
      { request_id: 'failed', profile: null, cost_usd: 0, input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, num_turns: 0, duration_api_ms: 0 },
    ]);
  });
});
