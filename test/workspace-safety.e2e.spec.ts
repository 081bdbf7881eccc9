import * as fs from 'node:fs';
import * as path from 'node:path';
import { useFakeClaudeDaemon } from './support/completions';
import { git, gitRepository } from './support/git-repository';

/** What an agent, writing in its worktree, could plant to make KSI's own git run its program. */
describe('git that KSI runs on an agent workspace (real daemon)', () => {
  const { send } = useFakeClaudeDaemon();
  const repositories: string[] = [];
  afterAll(() => {
    for (const dir of repositories) fs.rmSync(dir, { recursive: true, force: true });
  });
  const spawnInRepository = async (agentId: string) => {
    const repo = gitRepository();
    repositories.push(repo);
    const spawned = await send('agent:spawn', { profile: 'base_agent', agent_id: agentId, sandbox_config: { repository: repo } });
    return { repo, workspace: spawned.sandbox as string, marker: path.join(repo, `${agentId}-was-here`) };
  };

  it("never follows a .git file the agent rewrote: the agent's git config runs nothing, and the work is committed on its branch", async () => {
    const { repo, workspace, marker } = await spawnInRepository('redirector');
    const evil = path.join(workspace, 'evil');
    git(workspace, 'init', '--quiet', '--bare', evil);
    fs.appendFileSync(path.join(evil, 'config'), `[core]\n\tfsmonitor = "touch ${marker}"\n\thooksPath = ${path.join(evil, 'hooks')}\n`);
    fs.writeFileSync(path.join(evil, 'hooks', 'post-commit'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(workspace, '.git'), `gitdir: ${evil}\n`);
    fs.writeFileSync(path.join(workspace, 'work.txt'), 'done\n');

    await send('agent:terminate', { agent_id: 'redirector' });

    expect(fs.existsSync(marker)).toBe(false);
    expect(git(repo, 'show', 'ksi/redirector:work.txt')).toBe('done');
    expect(fs.existsSync(workspace)).toBe(false);
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(workspace);
  });

  it("runs no hook the agent planted in the repository, not even post-commit (which --no-verify does not stop), and commits the work", async () => {
    const { repo, workspace, marker } = await spawnInRepository('hooker');
    const hook = path.join(repo, '.git', 'hooks', 'post-commit');
    fs.writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(workspace, 'work.txt'), 'done\n');

    await send('agent:terminate', { agent_id: 'hooker' });

    expect(fs.existsSync(marker)).toBe(false);
    expect(git(repo, 'show', 'ksi/hooker:work.txt')).toBe('done');
  });
});
