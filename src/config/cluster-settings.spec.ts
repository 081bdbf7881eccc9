import { postgresLocation } from '../database/postgres-connection';
import { ConfigError, loadConfig } from './config';

describe('the PostgreSQL and cluster settings', () => {
  it('refuses a URL pg cannot read without repeating it: it may hold a password', () => {
    const start = () => loadConfig({ KSI_DATABASE_URL: 'postgresql://ksi:S3cretPw@db.example:54x32/ksi' });
    expect(start).toThrow(/^Invalid configuration: KSI_DATABASE_URL is not a URL pg can read \(Invalid URL\): /);
    expect(start).not.toThrow(/S3cretPw/);
  });

  it.each(['postgresql://ksi@/ksi?host=/run/postgresql&port=5499', 'postgresql://ksi@%2Frun%2Fpostgresql:5499/ksi'])('takes the Unix socket form pg connects with: %s', (url) => {
    expect(loadConfig({ KSI_DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it.each([
    [{ KSI_DATABASE_URL: 'postgresql://ksi@:5499/ksi?host=/run/postgresql' }, /^Invalid configuration: KSI_DATABASE_URL is not a URL pg can read \(Invalid URL\): .* for a Unix socket postgresql:\/\/user@\/db\?host=\/socket\/dir&port=5432 \(pg refuses an empty host before a port/],
    [{ KSI_DATABASE_URL: 'postgresql://ksi@db.example:5432' }, /^Invalid configuration: KSI_DATABASE_URL must name a database, as in /],
    [{ KSI_DATABASE_URL: 'postgresql://ksi@/ksi?host=/run/postgresql&port=abc' }, /^Invalid configuration: KSI_DATABASE_URL's port must be a number from 1 to 65535, .* \(got "abc"\)/],
    [{ KSI_DATABASE_URL: 'postgresql://ksi@/ksi?host=/run/postgresql&port=99999' }, /^Invalid configuration: KSI_DATABASE_URL's port must be a number from 1 to 65535, .* \(got "99999"\)/],
    [{ KSI_NODE_ID: '   ' }, /^Invalid configuration: KSI_NODE_ID must not be blank: .* \(got " {3}"\)$/],
    [{ KSI_LEASE_TTL_MS: '1e9' }, /^Invalid configuration: KSI_LEASE_TTL_MS must be at most 600000 \(10 minutes\): .* \(got "1e9"\)$/],
    [{ KSI_LEASE_TTL_MS: '299' }, /^Invalid configuration: KSI_LEASE_TTL_MS must be at least 300 /],
  ])('stops the start with one line naming a bad setting: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes lease TTLs from 300 ms to 10 minutes', () => {
    expect(loadConfig({ KSI_LEASE_TTL_MS: '300' }).node.leaseTtlMs).toBe(300);
    expect(loadConfig({ KSI_LEASE_TTL_MS: '600000' }).node.leaseTtlMs).toBe(600_000);
  });
});

describe('where messages and system:health say the database is (postgresLocation)', () => {
  it.each([
    ['postgresql://ksi:S3cret@db.example/ksi', 'postgresql://db.example:5432/ksi'],
    ['postgres://ksi@db.example:5499/ksi?sslmode=require', 'postgresql://db.example:5499/ksi'],
    ['postgresql://ksi@/ksi?host=/run/postgresql', 'postgresql:///ksi?host=/run/postgresql&port=5432'],
    ['postgresql://ksi:S3cret@%2Frun%2Fpostgresql:5499/ksi', 'postgresql:///ksi?host=/run/postgresql&port=5499'],
  ])('names %s as %s: server, port and database, never the user or password', (url, location) => {
    expect(postgresLocation(url)).toBe(location);
  });
});
