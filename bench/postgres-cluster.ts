import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

export interface PostgresCluster {
  /** A URL of the cluster's `postgres` database, over its Unix socket, as superuser `ksi`. */
  url: string;
  /** The server's log, until stop() removes the cluster. */
  logFile: string;
  stop(): void;
}

/** The folder of the machine's PostgreSQL server programs (`pg_config --bindir`), if they are there. */
export function postgresBinDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops a cluster whose owner died without stopping it (a test run interrupted with Ctrl-C or killed
 * by a CI timeout skips its global teardown): args owner pid, the cluster's folder, then the stop
 * command. Ends by itself once the folder is gone, as after a normal stop.
 */
const WATCHDOG = `
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const [owner, dir, program, ...args] = process.argv.slice(1);
const ownerAlive = () => { try { process.kill(Number(owner), 0); return true; } catch (error) { return error.code === 'EPERM'; } };
const timer = setInterval(() => {
  if (!fs.existsSync(dir)) return clearInterval(timer);
  if (ownerAlive()) return;
  clearInterval(timer);
  try { execFileSync(program, args, { stdio: 'ignore' }); } catch {}
  fs.rmSync(dir, { recursive: true, force: true });
}, 500);
`;

/**
 * A throwaway PostgreSQL cluster in a temporary folder, listening only on a Unix socket there.
 * PostgreSQL refuses to run as root, so as root its programs run as the `postgres` user.
 * `durable: false` (the tests) turns fsync off; the bench keeps PostgreSQL's defaults (fsync and
 * synchronous_commit on). Shared by the bench and the test suite's postgres project.
 */
export function startPostgresCluster(options: { durable?: boolean } = {}): PostgresCluster {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server programs not found (pg_config --bindir has no initdb): install postgresql');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const command = (program: string) => (asRoot ? ['runuser', '-u', 'postgres', '--', path.join(bin, program)] : [path.join(bin, program)]);
  // Its own session: a Ctrl-C of the run does not reach it, and it outlives a run killed outright, even during initdb.
  spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), dir, ...command('pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], { detached: true, stdio: 'ignore' }).unref();
  const run = (program: string, args: string[]) => {
    const [file, ...prefix] = command(program);
    return execFileSync(file, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  run('initdb', ['-D', data, '-U', 'ksi', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const settings = [`-k ${dir}`, "-c listen_addresses=''", '-c max_connections=400', '-c shared_buffers=64MB'];
  if (!options.durable) settings.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  const logFile = path.join(dir, 'server.log');
  run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-o', settings.join(' '), 'start']);
  return {
    url: `postgresql://ksi@/postgres?host=${encodeURIComponent(dir)}`,
    logFile,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A PostgreSQL server reached by a superuser's URL: one database per daemon. */
export class PostgresServer {
  constructor(private readonly adminUrl: string) {}

  /** Creates the database unless it is there; resolves with its URL. */
  async createDatabase(name: string): Promise<string> {
    await this.admin(async (client) => {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (error) {
        // duplicate_database, or the catalogue's unique index when another session created it at the same instant.
        if (!['42P04', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
      }
    });
    return this.urlOf(name);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }

  /** Runs one statement as the superuser, on the `postgres` database. */
  async execute(text: string): Promise<void> {
    await this.admin((client) => client.query(text));
  }

  urlOf(name: string): string {
    return this.adminUrl.replace(/^(postgres(?:ql)?:\/\/[^/?]*\/)[^?]*/, `$1${name}`);
  }

  private async admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}
