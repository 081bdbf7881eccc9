// Nest 12 packages are ESM-only and Jest 30 on Node 20 cannot require() ESM, so @swc/jest
// transforms them (and our TypeScript) to CommonJS. See shared/reference/nestjs-12-notes.md §0.2.
const swcTs = {
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
};
const swcJs = { jsc: { target: 'es2023', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } };
const esm = ['@nestjs', 'yargs-parser', 'chalk', '@nyariv', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', '@borewit'];

const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

/** PostgreSQL's server programs, for the throwaway cluster of the postgres project. */
function postgresAvailable() {
  if (process.env.KSI_TEST_DATABASE_URL) return true;
  try {
    const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return existsSync(path.join(bin, 'initdb'));
  } catch {
    return false;
  }
}

/** A Chromium for the dashboard's browser tests: KSI_TEST_CHROMIUM, else Debian's package. */
function chromiumPath() {
  const candidates = [process.env.KSI_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  return candidates.find((candidate) => existsSync(candidate));
}

const common = {
  rootDir: __dirname,
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', swcTs],
    [`^.+/node_modules/(${esm.join('|')})/.+\\.js$`]: ['@swc/jest', swcJs],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esm.join('|')})/)`],
  setupFiles: ['<rootDir>/test/support/check-results.ts'],
};

/** Every test, on the embedded SQLite default. */
const sqlite = {
  ...common,
  displayName: 'sqlite',
  roots: ['<rootDir>/src/', '<rootDir>/libs/', '<rootDir>/test/', '<rootDir>/apps/'],
  testRegex: '.*\\.spec\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', 'postgres-[^/]*\\.spec\\.ts$'],
};

const chromium = chromiumPath();
if (chromium) process.env.KSI_TEST_CHROMIUM = chromium;
else {
  if (process.env.CI === 'true') throw new Error('Chromium not found (KSI_TEST_CHROMIUM, /usr/bin/chromium): CI runs the dashboard in a real browser. Install chromium (.ci/run does).');
  console.log('Chromium not found (/usr/bin/chromium, KSI_TEST_CHROMIUM): the dashboard browser tests are skipped.');
  sqlite.testPathIgnorePatterns.push('test/dashboard-browser\\.e2e\\.spec\\.ts$');
}

/**
 * The end-to-end suite again, each daemon on its own database of a throwaway PostgreSQL cluster;
 * without the suites that store nothing of their own (the CLI's parsing and output, framing, the
 * client package, discovery, devtools), which would only double the run's time.
 */
const postgres = {
  ...common,
  displayName: 'postgres',
  roots: ['<rootDir>/src/', '<rootDir>/test/'],
  testRegex: ['test/.*\\.e2e\\.spec\\.ts$', 'postgres-[^/]*\\.spec\\.ts$'],
  testPathIgnorePatterns: ['/node_modules/', 'test/(cli|cli-habits|protocol|client-package|client|discovery|devtools|dashboard|dashboard-browser)\\.e2e\\.spec\\.ts$'],
  setupFiles: [...common.setupFiles, '<rootDir>/test/support/postgres-backend.ts'],
  globalSetup: '<rootDir>/test/support/postgres-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/postgres-global-teardown.ts',
};

const withPostgres = postgresAvailable();
if (!withPostgres) {
  if (process.env.CI === 'true') throw new Error('PostgreSQL not found (pg_config --bindir has no initdb, no KSI_TEST_DATABASE_URL): CI runs the suite on both backends. Install postgresql.');
  console.log('PostgreSQL not found (pg_config --bindir): the PostgreSQL runs are skipped.');
}

module.exports = {
  projects: withPostgres ? [sqlite, postgres] : [sqlite],
  testTimeout: 30000,
  // Jest's default is one worker per core but one; the tests mostly wait on their daemons and CLIs
  // (measured: 1.7 cores busy with two workers on a 2-core machine), so even 2 cores run two files at once.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  // A failed assertion can skip a suite's client.close(); the run must still end (CI has a time limit).
  forceExit: true,
};
