import * as fs from 'node:fs';
import * as path from 'node:path';
import { sandboxCreate, sandboxRemove } from '../libs/client/src';
import { EventBus } from '../src/events/event-bus';
import { SandboxRepository } from '../src/modules/permission/sandbox.repository';
import { startInProcess, type InProcessDaemon } from './support/in-process-daemon';

describe('sandbox paths stay inside the sandbox dir (in process, real database)', () => {
  let daemon: InProcessDaemon;
  beforeAll(async () => (daemon = await startInProcess()));
  afterAll(() => daemon.close());

  // Rows as agents `..` and `.` left them before ids were validated: their paths hold everyone's sandboxes.
  it.each([
    ['the sandbox root', '..'],
    ['the folder of every agent', '.'],
  ])('never deletes %s for a row that names it', async (_what, legacyId) => {
    const bus = daemon.app.get(EventBus);
    const { sandbox } = await bus.requestOne(sandboxCreate, { agent_id: 'neighbour' });
    fs.writeFileSync(path.join(sandbox.workspace, 'notes.txt'), 'keep me');
    const legacyPath = path.join(daemon.config.sandboxDir, 'agents', legacyId);
    await daemon.app.get(SandboxRepository).insert({ agentId: 'legacy', path: legacyPath, mode: 'isolated', parentAgentId: null, sessionId: null, gitDir: null, createdAt: 0 });
    expect(await bus.requestOne(sandboxRemove, { agent_id: 'legacy', force: true })).toMatchObject({ removed: true });
    expect(fs.readFileSync(path.join(sandbox.workspace, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it("still deletes an agent's own folder", async () => {
    const bus = daemon.app.get(EventBus);
    const { sandbox } = await bus.requestOne(sandboxCreate, { agent_id: 'leaver' });
    await bus.requestOne(sandboxRemove, { agent_id: 'leaver' });
    expect(fs.existsSync(sandbox.path)).toBe(false);
  });
});
