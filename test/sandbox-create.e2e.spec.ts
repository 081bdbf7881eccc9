import * as fs from 'node:fs';
import * as path from 'node:path';
import { useFakeClaudeDaemon } from './support/completions';

describe('sandbox:create (real daemon)', () => {
  const { daemon, send, client, reconnect } = useFakeClaudeDaemon();

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
});
