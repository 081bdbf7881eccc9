import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useFakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';
import { git, gitRepository } from './support/git-repository';
import { RawConnection } from './support/raw-connection';

describe("agents' workspaces (real daemon, fake Claude CLI)", () => {
  const { daemon, send } = useFakeClaudeDaemon();
  const repositories: string[] = [];
  afterAll(() => {
    for (const dir of repositories) fs.rmSync(dir, { recursive: true, force: true });
  });
  const cwdOfTurn = async (agentId: string, prompt: string): Promise<string> => {
    await send('agent:send_message', { agent_id: agentId, message: { prompt } });
    return (await eventually(() => daemon.invocations().find((entry) => entry.stdin === prompt), 20_000, `"${prompt}" to reach the CLI`))?.cwd ?? '';
  };

  it("runs an agent's turns in a git repository of its own, so the CLI never takes the repository around it as its project", async () => {
    const spawned = await send('agent:spawn', { profile: 'base_agent', agent_id: 'loner' });
    const cwd = await cwdOfTurn('loner', 'where am I');
    expect(fs.realpathSync(cwd)).toBe(fs.realpathSync(spawned.sandbox));
    expect(git(cwd, 'rev-parse', '--show-toplevel')).toBe(fs.realpathSync(cwd));
  });

  it("gives an agent whose profile names a repository a worktree on its own branch, and keeps the branch's work after terminate", async () => {
    const repo = gitRepository();
    repositories.push(repo);
    expect(await send('composition:create', { name: 'repo_worker', components: [{ name: 'repository', inline: repo }] })).toMatchObject({ status: 'success' });
    const spawned = await send('agent:spawn', { profile: 'repo_worker', agent_id: 'builder' });
    const cwd = await cwdOfTurn('builder', 'build it');
    expect(fs.realpathSync(cwd)).toBe(fs.realpathSync(spawned.sandbox));
    expect(git(cwd, 'rev-parse', '--show-toplevel')).toBe(fs.realpathSync(cwd));
    expect(git(cwd, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('ksi/builder');
    expect(fs.realpathSync(git(cwd, 'rev-parse', '--path-format=absolute', '--git-common-dir'))).toBe(path.join(repo, '.git'));
    expect(fs.readFileSync(path.join(cwd, 'README.md'), 'utf8')).toBe('the project\n');

    fs.writeFileSync(path.join(cwd, 'work.txt'), 'done by builder\n');
    await send('agent:terminate', { agent_id: 'builder' });
    expect(fs.existsSync(cwd)).toBe(false);
    expect(git(repo, 'worktree', 'list')).not.toContain(cwd);
    expect(git(repo, 'show', 'ksi/builder:work.txt')).toBe('done by builder');

    const again = await send('agent:spawn', { profile: 'repo_worker', agent_id: 'builder' });
    expect(git(again.sandbox, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('ksi/builder');
    expect(fs.readFileSync(path.join(again.sandbox, 'work.txt'), 'utf8')).toBe('done by builder\n');
  });

  it('takes the repository from agent:spawn too, and restarts the agent on the same branch', async () => {
    const repo = gitRepository();
    repositories.push(repo);
    const spawned = await send('agent:spawn', { profile: 'base_agent', agent_id: 'fixer', sandbox_config: { repository: repo } });
    fs.writeFileSync(path.join(spawned.sandbox, 'fix.txt'), 'fixed\n');
    const restarted = await send('agent:restart', { agent_id: 'fixer' });
    expect(git(restarted.sandbox, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('ksi/fixer');
    expect(fs.readFileSync(path.join(restarted.sandbox, 'fix.txt'), 'utf8')).toBe('fixed\n');
  });

  it('lets only the operator or a profile name a repository: an agent spawning a child may not', async () => {
    const repo = gitRepository();
    repositories.push(repo);
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'parent', permission_profile: 'trusted' });
    const { token } = await send('permission:issue_token', { agent_id: 'parent' });
    const parent = await RawConnection.open(daemon.socketPath);
    await parent.request({ event: 'system:identify', data: { agent_id: 'parent', token } });
    const reply = await parent.request({ event: 'agent:spawn', data: { profile: 'base_agent', agent_id: 'kid', permission_profile: 'restricted', sandbox_config: { repository: repo } } });
    expect(reply.data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('sandbox_config.repository') });
    parent.close();
  });

  it.each([
    ['does not exist', () => path.join(os.tmpdir(), 'ksi-no-such-repository'), /does not exist/],
    ['is not a git repository', () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-plain-'))), /is not a git repository/],
    ['is relative', () => 'some/repo', /must be an absolute path/],
  ])('refuses a repository that %s with a clear error, and leaves no agent behind', async (_case, make, message) => {
    const agentId = `stray-${repositories.length}`;
    const repo = make();
    repositories.push(repo);
    expect(await send('agent:spawn', { profile: 'base_agent', agent_id: agentId, sandbox_config: { repository: repo } })).toMatchObject({ code: 'invalid_repository', error: expect.stringMatching(message) });
    expect((await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id)).not.toContain(agentId);
    expect(await send('permission:get_agent', { agent_id: agentId })).toMatchObject({ code: 'not_found' });
    expect(await send('sandbox:get', { agent_id: agentId })).toMatchObject({ code: 'not_found' });
  });
});
