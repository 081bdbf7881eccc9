import * as fs from 'node:fs';
import * as path from 'node:path';
import { useFakeClaudeDaemon } from './support/completions';
import { gitRepository } from './support/git-repository';

describe('sandbox:create (real daemon)', () => {
  const { daemon, send, client, reconnect } = useFakeClaudeDaemon();
  const repositories: string[] = [];
  afterAll(() => {
    for (const dir of repositories) fs.rmSync(dir, { recursive: true, force: true });
  });
  const repository = () => {
    const repo = gitRepository();
    repositories.push(repo);
    return repo;
  };

  it('makes a workspace from before workspaces were repositories one, when the sandbox is created again and when the daemon starts', async () => {
    const { sandbox } = await send('sandbox:create', { agent_id: 'elder', config: { mode: 'isolated' } });
    // Such a workspace is what a sandbox made before this change looks like: no .git.
    fs.rmSync(path.join(sandbox.workspace, '.git'), { recursive: true });
    expect(await send('sandbox:create', { agent_id: 'elder', config: { mode: 'isolated' } })).toMatchObject({ sandbox: { workspace: sandbox.workspace } });
    expect(fs.statSync(path.join(sandbox.workspace, '.git')).isDirectory()).toBe(true);

    fs.rmSync(path.join(sandbox.workspace, '.git'), { recursive: true });
    await client().close();
    await daemon.stop();
    await daemon.start();
    await reconnect();
    expect(fs.statSync(path.join(sandbox.workspace, '.git')).isDirectory()).toBe(true);
  });

  it.each(['a..b', 'work.lock', 'ends.'])('refuses agent_id %s, which names no git branch, as invalid_params before git makes anything', async (agentId) => {
    const repo = repository();
    expect(await send('sandbox:create', { agent_id: agentId, config: { mode: 'isolated', repository: repo } })).toMatchObject({
      code: 'invalid_params',
      error: expect.stringContaining('agent_id'),
    });
    expect(fs.existsSync(path.join(daemon.varDir, 'sandbox', 'agents', agentId))).toBe(false);
  });

  it('keeps the sandbox when two creates of one agent id race: the second returns the first one, and does not delete its folder', async () => {
    const repo = repository();
    const clients = [daemon.client(), daemon.client()];
    const request = { agent_id: 'twin', config: { mode: 'isolated' as const, repository: repo } };
    const replies = await Promise.all(clients.map((racer) => racer.sendSingle('sandbox:create', request)));
    await Promise.all(clients.map((racer) => racer.close()));
    const workspace = (replies[0] as { sandbox: { workspace: string } }).sandbox.workspace;
    expect(replies).toEqual([replies[0], replies[0]]);
    expect(fs.readFileSync(path.join(workspace, 'README.md'), 'utf8')).toBe('the project\n');
  });
});
