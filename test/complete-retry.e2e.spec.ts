import { fakeClaudeDaemon } from './support/completions';
import { ksi } from './support/ksi-cli';

describe('`ksi complete --wait` across a retry (real daemon, fake CLI)', () => {
  const daemon = fakeClaudeDaemon({ env: { KSI_RETRY_INITIAL_MS: '50', KSI_RETRY_MAX_MS: '100' } });
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());
  const complete = (prompt: string) => ksi(['complete', prompt, '--wait'], { KSI_SOCKET_PATH: daemon.socketPath });

  it('marks the text a failed attempt streamed and prints the retry’s answer on its own line', async () => {
    const prompt = 'said then failed [[is_error:1]]';
    const { code, stdout, stderr } = await complete(prompt);
    expect(code).toBe(0);
    expect(stdout).toBe(`echo: ${prompt}\necho: ${prompt}\n`);
    expect(stderr).toContain('the text above is from attempt 1, which failed: it is not the answer');
    expect(stderr.indexOf('it is not the answer')).toBeLessThan(stderr.indexOf('attempt 1 failed'));
  });

  it('says nothing of a failed attempt that streamed no text', async () => {
    const prompt = 'silent failure [[fail:1]]';
    const { code, stdout, stderr } = await complete(prompt);
    expect(code).toBe(0);
    expect(stdout).toBe(`echo: ${prompt}\n`);
    expect(stderr).toContain('attempt 1 failed');
    expect(stderr).not.toContain('it is not the answer');
  });
});
