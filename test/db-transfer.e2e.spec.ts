import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENTITIES } from '../src/database/entities';
import { DaemonProcess } from './support/daemon-process';
import { ksi } from './support/ksi-cli';
import { databaseEnv, dropDatabase, testBackend } from './support/test-database';

/**
 * `ksi db export` from the default SQLite file and `ksi db import` into the backend of this run (a
 * second SQLite file, or a PostgreSQL database): the move the README describes.
 */
describe(`ksi db export / import (SQLite → ${testBackend()})`, () => {
  const source = new DaemonProcess({ env: { KSI_DATABASE_URL: '' } });
  const target = new DaemonProcess();
  const dump = path.join(source.varDir, 'dump.ndjson');
  let targetEnv: Record<string, string>;

  beforeAll(async () => {
    targetEnv = { KSI_VAR_DIR: target.varDir, ...(await databaseEnv(target.varDir)) };
  });
  afterAll(async () => {
    await source.dispose();
    await target.dispose();
    await dropDatabase(target.varDir);
  });

  it('moves state, queues and the event log, and the moved database takes new rows', async () => {
    await source.start();
    const client = source.client();
    await client.sendSingle('state:set', { key: 'theme', value: { dark: true, name: 'ké\ny' } });
    await client.sendSingle('async_state:push', { namespace: 'jobs', queue_name: 'todo', value: 1 });
    await client.sendSingle('async_state:push', { namespace: 'jobs', queue_name: 'todo', value: 2 });
    // Enough to fill the output's buffer many times over: the export waits for it to drain again and again.
    const bulk = 'x'.repeat(2_000);
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.sendSingle('state:set', { namespace: 'bulk', key: `k${i}`, value: bulk })));
    await client.close();
    await source.stop();

    const exported = await ksi(['db', 'export', '--output', dump], { KSI_VAR_DIR: source.varDir, KSI_DATABASE_URL: '' });
    // One line, and no warning (each wait for the output to drain once left a listener behind).
    expect(exported).toMatchObject({ code: 0, stderr: expect.stringMatching(new RegExp(`^Exported \\d+ rows of ${ENTITIES.length} tables[^\\n]*\\n$`)) });
    const header = JSON.parse(fs.readFileSync(dump, 'utf8').split('\n')[0]);
    expect(header).toMatchObject({ ksi_export: 1, dialect: 'sqlite', tables: { state_entries: 301, queue_items: 2 } });
    expect(header.tables.event_log).toBeGreaterThan(0);

    const imported = await ksi(['db', 'import', dump], targetEnv);
    expect(imported).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Imported \d+ rows into /) });
    const again = await ksi(['db', 'import', dump], targetEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Nothing imported: .*already holds data \(\d+ rows in \w+\): import into an empty database/);

    await target.start();
    const moved = target.client();
    expect(await moved.sendSingle('state:get', { key: 'theme' })).toMatchObject({ found: true, value: { dark: true, name: 'ké\ny' } });
    await moved.sendSingle('async_state:push', { namespace: 'jobs', queue_name: 'todo', value: 3 });
    const popped = [];
    for (let i = 0; i < 3; i++) popped.push(((await moved.sendSingle('async_state:pop', { namespace: 'jobs', queue_name: 'todo' })) as { value: unknown }).value);
    expect(popped).toEqual([1, 2, 3]);
    const events = (await moved.sendSingle('monitor:get_events', { event_patterns: ['state:set'], limit: 10 })) as { events: { event_name: string }[] };
    expect(events.events.map((event) => event.event_name)).toContain('state:set');
    await moved.close();
  });

  it('refuses a file that is not an export, names the line, and leaves the database empty', async () => {
    const bad = path.join(source.varDir, 'bad.ndjson');
    fs.writeFileSync(bad, `${JSON.stringify({ ksi_export: 1, dialect: 'sqlite', tables: {} })}\n{"table":"state_entries","row":{"namespace":"n","key":"k","value":"1","created_at":1,"updated_at":1}}\n{"table":"secrets","row":{}}\n`);
    const empty = new DaemonProcess();
    const env = { KSI_VAR_DIR: empty.varDir, ...(await databaseEnv(empty.varDir)) };
    try {
      const refused = await ksi(['db', 'import', bad], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('Nothing imported: Line 3: "secrets" is not a table of this KSI');
      expect((await ksi(['db', 'import', path.join(source.varDir, 'missing.ndjson')], env)).stderr).toMatch(/^Cannot read .*missing\.ndjson: ENOENT/);
      await empty.start();
      const client = empty.client();
      expect(await client.sendSingle('state:get', { namespace: 'n', key: 'k' })).toMatchObject({ found: false });
      await client.close();
    } finally {
      await empty.dispose();
    }
  });
});
