import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'better-sqlite3';
import { SQLITE } from '../src/database/sqlite.provider';
import { EventBus } from '../src/events/event-bus';
import { startInProcess, type InProcessDaemon } from './support/in-process-daemon';

describe('sandbox paths stay inside the sandbox dir (in process, real SQLite)', () => {
  let daemon: InProcessDaemon;
  beforeAll(async () => (daemon = await startInProcess()));
  afterAll(() => daemon.close());

  it('never deletes the sandbox root for a row that names it (written before ids were validated)', async () => {
    const bus = daemon.app.get(EventBus);
    const { sandbox } = await bus.requestOne<{ sandbox: { workspace: string } }>('sandbox:create', { agent_id: 'neighbour' });
    fs.writeFileSync(path.join(sandbox.workspace, 'notes.txt'), 'keep me');
    const db = daemon.app.get<Database>(SQLITE, { strict: false });
    db.prepare(`INSERT INTO sandboxes (agent_id, path, mode, created_at) VALUES ('legacy', ?, 'isolated', 0)`).run(path.join(daemon.config.sandboxDir, 'agents', '..'));
    expect(await bus.requestOne('sandbox:remove', { agent_id: 'legacy', force: true })).toMatchObject({ removed: true });
    expect(fs.readFileSync(path.join(sandbox.workspace, 'notes.txt'), 'utf8')).toBe('keep me');
  });
});
