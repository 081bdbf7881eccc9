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
    const lines = fs.readFileSync(dump, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[0])).toEqual({ ksi_export: 2, dialect: 'sqlite', exported_at: expect.any(String) });
    // The last line counts what was written: an import knows a file that was cut short.
    const end = JSON.parse(lines[lines.length - 1]);
    expect(end).toMatchObject({ ksi_export_end: true, rows: { state_entries: 301, queue_items: 2 } });
    expect(end.rows.event_log).toBeGreaterThan(0);
    expect(Object.values(end.rows as Record<string, number>).reduce((sum, count) => sum + count, 0)).toBe(lines.length - 2);

    const imported = await ksi(['db', 'import', dump], targetEnv);
    expect(imported).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Imported \d+ rows into /) });
    const again = await ksi(['db', 'import', dump], targetEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Nothing imported\. The database at .*already holds data \(\d+ rows in \w+\): import into an empty database/);

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

  it('refuses a file that is not an export, or one cut short, names why, and leaves the database empty', async () => {
    const write = (name: string, lines: unknown[]) => {
      const file = path.join(source.varDir, name);
      fs.writeFileSync(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
      return file;
    };
    const row = { table: 'state_entries', row: { namespace: 'n', key: 'k', value: '1', created_at: 1, updated_at: 1 } };
    const header = { ksi_export: 2, dialect: 'sqlite', exported_at: '2026-12-04T00:00:00.000Z' };
    const empty = new DaemonProcess();
    const env = { KSI_VAR_DIR: empty.varDir, ...(await databaseEnv(empty.varDir)) };
    try {
      const refusals: [file: string, why: string][] = [
        [write('unknown-table.ndjson', [header, row, { table: 'secrets', row: {} }]), 'Nothing imported. Line 3: "secrets" is not a table of this KSI'],
        [write('cut-short.ndjson', [header, row]), "Nothing imported. The file ends at line 2 without the export's last line: it was cut short"],
        [write('miscounted.ndjson', [header, row, { ksi_export_end: true, rows: { state_entries: 2 } }]), 'Nothing imported. The file holds other row counts than the export wrote (state_entries: 1 of 2)'],
        // Version 1 counted the rows in its header.
        [write('cut-short-v1.ndjson', [{ ksi_export: 1, dialect: 'sqlite', tables: { state_entries: 2 } }, row]), 'Nothing imported. The file holds other row counts than the export wrote (state_entries: 1 of 2)'],
        [write('not-an-export.ndjson', [{ hello: 'world' }]), 'Nothing imported. The first line is not the header of a `ksi db export`'],
      ];
      for (const [file, why] of refusals) expect(await ksi(['db', 'import', file], env)).toMatchObject({ code: 1, stderr: expect.stringContaining(why) });
      expect((await ksi(['db', 'import', path.join(source.varDir, 'missing.ndjson')], env)).stderr).toMatch(/^Cannot read .*missing\.ndjson: ENOENT/);
      await empty.start();
      const client = empty.client();
      expect(await client.sendSingle('state:get', { namespace: 'n', key: 'k' })).toMatchObject({ found: false });
      await client.close();
    } finally {
      await empty.dispose();
    }
  });

  it('a version 1 export (counts in its header) still imports', async () => {
    const v1 = path.join(source.varDir, 'v1.ndjson');
    const row = { table: 'state_entries', row: { namespace: 'global', key: 'old', value: '"from v1"', created_at: 1, updated_at: 1 } };
    fs.writeFileSync(v1, `${JSON.stringify({ ksi_export: 1, dialect: 'sqlite', exported_at: '2026-11-01T00:00:00.000Z', tables: { state_entries: 1 } })}\n${JSON.stringify(row)}\n`);
    const fresh = new DaemonProcess();
    try {
      expect(await ksi(['db', 'import', v1], { KSI_VAR_DIR: fresh.varDir, ...(await databaseEnv(fresh.varDir)) })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Imported 1 rows into /) });
      // The file it made is as private as the daemon's own.
      if (testBackend() === 'sqlite') expect(fs.statSync(path.join(fresh.varDir, 'db', 'ksi.db')).mode & 0o777).toBe(0o600);
      await fresh.start();
      const client = fresh.client();
      expect(await client.sendSingle('state:get', { key: 'old' })).toMatchObject({ found: true, value: 'from v1' });
      await client.close();
    } finally {
      await fresh.dispose();
      await dropDatabase(fresh.varDir);
    }
  });

  it('an export from a folder with no database refuses and creates none; one beside a daemon on another database says which it exports', async () => {
    const nowhere = fs.mkdtempSync(path.join(path.dirname(source.varDir), 'ksi-nowhere-'));
    try {
      const refused = await ksi(['db', 'export', '-o', path.join(nowhere, 'out.ndjson')], { KSI_VAR_DIR: path.join(nowhere, 'var'), KSI_DATABASE_URL: '' });
      expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^No KSI database at \S+\/var\/db\/ksi\.db: run this where the daemon runs/) });
      expect(fs.readdirSync(nowhere)).toEqual([]);
    } finally {
      fs.rmSync(nowhere, { recursive: true, force: true });
    }
    // A daemon on its own database; the export reads the source's file through that daemon's var dir.
    const beside = new DaemonProcess();
    const sourceFile = path.join(source.varDir, 'db', 'ksi.db');
    try {
      await beside.start();
      const other = await ksi(['db', 'export', '-o', path.join(source.varDir, 'other.ndjson')], { KSI_VAR_DIR: beside.varDir, KSI_DATABASE_URL: '', KSI_DB_PATH: sourceFile });
      expect(other.code).toBe(0);
      expect(other.stderr).toMatch(/^The daemon on this var dir uses the database at \S+; this exports /);
      expect(other.stderr).toContain(`this exports ${sourceFile}. Set KSI_DATABASE_URL (or KSI_VAR_DIR) as the daemon has it`);
      await beside.stop();
      // Started again on another database (the user's shell lacks the URL it had), it says so.
      const env = { KSI_VAR_DIR: beside.varDir, KSI_DATABASE_URL: '', KSI_DB_PATH: path.join(beside.varDir, 'db', 'elsewhere.db') };
      const started = await ksi(['daemon', 'start'], env);
      expect(started).toMatchObject({ code: 0, stdout: expect.stringMatching(/\n {2}Note: the last daemon on this var dir ran with another KSI_\w+( and KSI_\w+)?; this one uses the database at \S+elsewhere\.db\. What the last one wrote stays in its database/) });
      expect(await ksi(['daemon', 'stop'], env)).toMatchObject({ code: 0 });
    } finally {
      await beside.dispose();
    }
  });
});

