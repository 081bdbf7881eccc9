import * as fs from 'node:fs';
import { useFakeClaudeDaemon } from './support/completions';
import { gitRepository } from './support/git-repository';
import { RawConnection } from './support/raw-connection';

/** Which repository an agent works in is the operator's (or the library's) choice, whichever event names it. */
describe('only the operator names a repository (real daemon)', () => {
  const { daemon, send } = useFakeClaudeDaemon();
  const repo = gitRepository();
  let boss: RawConnection;
  beforeAll(async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'boss', permission_profile: 'trusted' });
    const { token } = await send('permission:issue_token', { agent_id: 'boss' });
    boss = await RawConnection.open(daemon.socketPath);
    await boss.request({ event: 'system:identify', data: { agent_id: 'boss', token } });
  });
  afterAll(() => {
    boss.close();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it("refuses a repository in an agent's sandbox:create for its child, and makes no sandbox", async () => {
    expect((await boss.request({ event: 'agent:spawn', data: { profile: 'base_agent', agent_id: 'kid', permission_profile: 'restricted' } })).data).toMatchObject({ agent_id: 'kid' });
    expect((await boss.request({ event: 'sandbox:remove', data: { agent_id: 'kid' } })).data).toMatchObject({ removed: true });
    const reply = await boss.request({ event: 'sandbox:create', data: { agent_id: 'kid', config: { mode: 'isolated', repository: repo } } });
    expect(reply.data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('config.repository') });
    expect(await send('sandbox:get', { agent_id: 'kid' })).toMatchObject({ code: 'not_found' });
  });

  it('refuses a composition an agent creates with a repository component, and stores none', async () => {
    const reply = await boss.request({ event: 'composition:create', data: { name: 'elsewhere', components: [{ name: 'repository', inline: repo }] } });
    expect(reply.data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('repository') });
    expect(await send('composition:get', { name: 'elsewhere' })).toMatchObject({ code: 'not_found' });
  });

  it("refuses an agent another Claude account's login, through a composition or a request", async () => {
    const made = await boss.request({ event: 'composition:create', data: { name: 'borrowed', components: [{ name: 'claude_config_dir', inline: '/home/someone/.claude' }] } });
    expect(made.data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('claude_config_dir') });
    const asked = await boss.request({ event: 'completion:async', data: { prompt: 'hi', claude_config_dir: '/home/someone/.claude' } });
    expect(asked.data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('claude_config_dir') });
  });

  it('still lets an agent create a composition without one, and spawn from a library profile', async () => {
    expect((await boss.request({ event: 'composition:create', data: { name: 'helper', role: 'helper' } })).data).toMatchObject({ status: 'success' });
    expect((await boss.request({ event: 'agent:spawn', data: { profile: 'helper', agent_id: 'helper-1', permission_profile: 'restricted' } })).data).toMatchObject({ agent_id: 'helper-1' });
  });
});
