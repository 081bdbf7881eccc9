import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useDaemon } from './support/daemon-process';

const ROOT = path.resolve(__dirname, '..');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** Runs a command to its end; a non-zero exit fails with everything it printed. */
function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 90_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(command)} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The TypeScript example of the README's "Using the client library" section, exactly as printed. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Using the client library\n')[1]?.split('\n## ')[0];
  const example = section?.match(/```ts\n([\s\S]*?)```/)?.[1];
  if (!example) throw new Error('README.md has no ```ts example under "## Using the client library"');
  return example;
}

/** With skipLibCheck a package whose types do not resolve reads as `any`: these expectations would then fail to compile. */
const TYPES_RESOLVE = `import { KsiClient } from 'ksi/client';

export async function typed(client: KsiClient): Promise<boolean> {
  // @ts-expect-error state:get requires a key
  await client.sendSingle('state:get', {});
  return (await client.sendSingle('state:get', { key: 'k' })).found;
}
`;

/** A project that depends on KSI as an installed package: node_modules/ksi is this project, beside the project's own @types/node. */
function consumerProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-consumer-'));
  fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'ksi'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'));
  const compilerOptions = { module: 'nodenext', target: 'es2023', strict: true, skipLibCheck: true, types: ['node'] };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions }));
  fs.writeFileSync(path.join(dir, 'example.mts'), readmeExample());
  fs.writeFileSync(path.join(dir, 'types-resolve.mts'), TYPES_RESOLVE);
  return dir;
}

describe('ksi/client as an installed package', () => {
  const { daemon } = useDaemon();
  let project: string;
  beforeAll(() => (project = consumerProject()));
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  it("compiles the README's example with tsc against the package's .d.ts files and runs it against the daemon", async () => {
    await run(process.execPath, [TSC, '-p', project], { cwd: project });
    const output = await run(process.execPath, ['example.mjs'], { cwd: project, env: { KSI_SOCKET_PATH: daemon.socketPath } });
    expect(output).toMatch(/^greeting: "hello", found: true$/m);
    expect(output).toMatch(/^[0-9a-f-]{36}: echo: Say hello$/m);
  }, 120_000);

  it('require("ksi/client") works from plain JavaScript, and nothing else of the package is reachable', async () => {
    const script = `
      const { KsiClient } = require('ksi/client');
      for (const name of ['ksi', 'ksi/libs/client/src', 'ksi/dist/src/events/dispatcher.js', 'ksi/dist/apps/cli/main.js']) {
        try { require.resolve(name); console.log(name, 'resolves'); } catch (error) { console.log(name, error.code); }
      }
      const client = new KsiClient();
      client.sendSingle('system:health').then((health) => { console.log('pid', health.pid); return client.close(); });
    `;
    const output = await run(process.execPath, ['-e', script], { cwd: project, env: { KSI_SOCKET_PATH: daemon.socketPath } });
    expect(output.trim().split('\n')).toEqual([
      'ksi ERR_PACKAGE_PATH_NOT_EXPORTED',
      'ksi/libs/client/src ERR_PACKAGE_PATH_NOT_EXPORTED',
      'ksi/dist/src/events/dispatcher.js ERR_PACKAGE_PATH_NOT_EXPORTED',
      'ksi/dist/apps/cli/main.js ERR_PACKAGE_PATH_NOT_EXPORTED',
      `pid ${daemon.pid}`,
    ]);
  });
});

describe('the packed package', () => {
  it('holds what exports and bin point to, and no TypeScript source', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      exports: { './client': { types: string; default: string } };
      bin: Record<string, string>;
    };
    const [packed] = JSON.parse(await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT })) as { files: { path: string }[] }[];
    const files = new Set(packed.files.map((file) => file.path));
    const targets = [...Object.values(manifest.exports['./client']), ...Object.values(manifest.bin)].map((target) => path.normalize(target));
    expect(targets.filter((target) => !files.has(target))).toEqual([]);
    expect([...files].filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  }, 60_000);
});
