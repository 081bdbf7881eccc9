import { existsSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseConnectionString } from 'pg-connection-string';
import { z } from 'zod';
import { MODEL_FORMAT, parseModel } from '../../libs/client/src/contract/completion.events';
import { resolveExecutable } from './executable';
import { installRoot } from './install-root';
import { modelPrices, type ModelPrices } from './model-prices';

const positiveInt = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be greater than 0`)
    .default(fallback);

/** Every environment variable the daemon reads, validated once at start. */
const environment = z.object({
  KSI_VAR_DIR: z.string().min(1).default('var'),
  KSI_SOCKET_PATH: z.string().min(1).optional(),
  KSI_DB_PATH: z.string().min(1).optional(),
  // Empty means unset, as a shell's `KSI_DATABASE_URL=` would.
  KSI_DATABASE_URL: z
    .preprocess((value) => (value === '' ? undefined : value), z.string().optional())
    .superRefine((url, context) => {
      const problem = url === undefined ? undefined : postgresUrlProblem(url);
      if (problem) context.addIssue(problem);
    }),
  KSI_LIB_DIR: z.string().min(1).optional(),
  KSI_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error'], { error: 'KSI_LOG_LEVEL must be one of debug, info, warn, error' }).default('info'),
  KSI_MAX_LINE_BYTES: positiveInt('KSI_MAX_LINE_BYTES', 1024 * 1024).refine((bytes) => bytes >= 1024, { message: 'KSI_MAX_LINE_BYTES must be at least 1024: smaller refuses ordinary requests' }),
  KSI_MAX_OUTPUT_BYTES: positiveInt('KSI_MAX_OUTPUT_BYTES', 16 * 1024 * 1024),
  KSI_SHUTDOWN_TIMEOUT_MS: positiveInt('KSI_SHUTDOWN_TIMEOUT_MS', 30_000),
  KSI_PARTIAL_LINE_TIMEOUT_MS: positiveInt('KSI_PARTIAL_LINE_TIMEOUT_MS', 30_000),
  KSI_STATE_CACHE_BYTES: positiveInt('KSI_STATE_CACHE_BYTES', 64 * 1024 * 1024),
  KSI_EVENT_DATA_MAX_BYTES: positiveInt('KSI_EVENT_DATA_MAX_BYTES', 64 * 1024),
  KSI_EVENT_LOG_BUFFER_BYTES: positiveInt('KSI_EVENT_LOG_BUFFER_BYTES', 32 * 1024 * 1024),
  KSI_MONITOR_REPLY_BYTES: positiveInt('KSI_MONITOR_REPLY_BYTES', 8 * 1024 * 1024),
  CLAUDE_BIN: z.string().min(1).default('claude'),
  KSI_DEFAULT_MODEL: z
    .string()
    .refine((model) => parseModel(model) !== undefined, { message: `KSI_DEFAULT_MODEL must be ${MODEL_FORMAT}` })
    .default('claude-cli/sonnet'),
  KSI_MAX_CONCURRENT: positiveInt('KSI_MAX_CONCURRENT', 4),
  ANTHROPIC_BASE_URL: z.url({ error: 'ANTHROPIC_BASE_URL must be a URL such as https://api.anthropic.com' }).optional(),
  KSI_ANTHROPIC_MAX_TOKENS: positiveInt('KSI_ANTHROPIC_MAX_TOKENS', 8_192),
  KSI_MODEL_PRICES: z.string().optional(),
  KSI_DEVTOOLS_PORT: z.coerce.number({ error: 'KSI_DEVTOOLS_PORT must be a number' }).int('KSI_DEVTOOLS_PORT must be a whole number').min(1).max(65535, 'KSI_DEVTOOLS_PORT must be a port number').optional(),
  // Empty means unset (off), not port 0.
  KSI_HTTP_PORT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number({ error: 'KSI_HTTP_PORT must be a number' }).int('KSI_HTTP_PORT must be a whole number').min(0, 'KSI_HTTP_PORT must be a port number (0: any free port)').max(65535, 'KSI_HTTP_PORT must be a port number').optional(),
  ),
  KSI_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  KSI_EVENT_LOG: z.enum(['on', 'off'], { error: 'KSI_EVENT_LOG must be on or off' }).default('on'),
  KSI_CHECK_RESULTS: z.enum(['on', 'off'], { error: 'KSI_CHECK_RESULTS must be on or off' }).default('off'),
  KSI_EVENT_RETENTION_DAYS: z.coerce.number({ error: 'KSI_EVENT_RETENTION_DAYS must be a number' }).positive('KSI_EVENT_RETENTION_DAYS must be greater than 0').default(7),
  KSI_COMPLETION_TIMEOUT_MS: positiveInt('KSI_COMPLETION_TIMEOUT_MS', 300_000),
  KSI_RETRY_MAX_ATTEMPTS: positiveInt('KSI_RETRY_MAX_ATTEMPTS', 3),
  KSI_RETRY_INITIAL_MS: positiveInt('KSI_RETRY_INITIAL_MS', 2_000),
  KSI_RETRY_MAX_MS: positiveInt('KSI_RETRY_MAX_MS', 60_000),
  KSI_RETRY_MULTIPLIER: z.coerce.number({ error: 'KSI_RETRY_MULTIPLIER must be a number' }).min(1, 'KSI_RETRY_MULTIPLIER must be at least 1').default(2),
  KSI_APPROVAL_WEBHOOK_URL: z.url({ error: 'KSI_APPROVAL_WEBHOOK_URL must be a URL such as https://hooks.example.com/ksi' }).optional(),
  KSI_NODE_ID: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .max(200, 'KSI_NODE_ID must be at most 200 characters')
      .refine((id) => id.trim() !== '', 'KSI_NODE_ID must not be blank: name the node (node-a), or leave it unset for the host name and var dir')
      .optional(),
  ),
  KSI_LEASE_TTL_MS: z.coerce
    .number({ error: 'KSI_LEASE_TTL_MS must be a number' })
    .int('KSI_LEASE_TTL_MS must be a whole number')
    .min(300, 'KSI_LEASE_TTL_MS must be at least 300 (ms): leases are renewed every third of it')
    .max(600_000, "KSI_LEASE_TTL_MS must be at most 600000 (10 minutes): a dead node's work waits that long before another node runs it")
    .default(15_000),
  KSI_RESUME_STAGGER_MS: z.coerce.number({ error: 'KSI_RESUME_STAGGER_MS must be a number' }).int('KSI_RESUME_STAGGER_MS must be a whole number').min(0, 'KSI_RESUME_STAGGER_MS must be 0 or more').default(1_000),
});

/**
 * The variables a daemon reads: what `ksi daemon restart` carries over (never markers or tokens of
 * other programs). KSI_ANTHROPIC_API_KEY and ANTHROPIC_API_KEY are read too but deliberately not
 * listed: this list is written to var/run/daemon.settings.json, and an API key must not land on disk.
 * KSI_DATABASE_URL is listed, password included: a daemon restarted from a shell without it must
 * still connect (see recordDaemonSettings).
 */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(environment.shape);

/** A URL may hold a password or a token: a refusal names these variables but never repeats their value. */
const URL_VARIABLES = new Set(['KSI_DATABASE_URL', 'ANTHROPIC_BASE_URL', 'KSI_APPROVAL_WEBHOOK_URL']);

/**
 * The Messages API key for the Anthropic provider alone. ANTHROPIC_API_KEY works too, but the Claude
 * CLI reads that one as well (its turns are then billed to the key, not to the user's login); this
 * one is kept out of the CLI's environment.
 */
export const PROVIDER_API_KEY = 'KSI_ANTHROPIC_API_KEY';

/** The HMAC key of the approval webhook: a secret, so read like the API keys and never written to the settings file. */
export const APPROVAL_WEBHOOK_SECRET = 'KSI_APPROVAL_WEBHOOK_SECRET';

/**
 * The daemon's own credentials, kept out of every Claude CLI's environment so that an agent allowed a
 * shell command such as `env` does not read them in passing. Defence in depth only: a CLI runs as the
 * daemon's Unix user, which can read the var dir and reach the socket; a separate user is the boundary.
 */
export const DAEMON_SECRETS: readonly string[] = [PROVIDER_API_KEY, APPROVAL_WEBHOOK_SECRET, 'KSI_DATABASE_URL', 'PGPASSWORD'];

export interface KsiConfig {
  /** The installed package's version. */
  version: string;
  varDir: string;
  socketPath: string;
  pidFile: string;
  /** The SQLite file, when no KSI_DATABASE_URL is set. */
  dbPath: string;
  /** KSI_DATABASE_URL: run on this PostgreSQL database instead of the SQLite file. */
  databaseUrl: string | undefined;
  libDir: string;
  logDir: string;
  daemonLogFile: string;
  responseLogDir: string;
  sandboxDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  maxLineBytes: number;
  /** Unread output a connection may hold before it is dropped. */
  maxOutputBytes: number;
  shutdownTimeoutMs: number;
  /** A connection that sends part of a line and then nothing for this long gets `line_timeout` and is closed. */
  partialLineTimeoutMs: number;
  /** Bytes of state values kept in the read cache. */
  stateCacheBytes: number;
  /** Event data larger than this (as JSON) is recorded as a truncation marker. */
  eventDataMaxBytes: number;
  /** Recorded events not yet committed by the event log's writer; beyond it events are dropped (and counted). */
  eventLogBufferBytes: number;
  /** Event data one monitor reply may carry; the rest is left out with a marker. */
  monitorReplyBytes: number;
  /** Absolute when found: resolved once at start (see resolveExecutable). */
  claudeBin: string;
  /** The model of a request or profile that names none. */
  defaultModel: string;
  anthropic: AnthropicSettings;
  /** Claude processes running at once. */
  maxConcurrent: number;
  /** Per attempt, unless the request gives `timeout` (seconds). */
  completionTimeoutMs: number;
  retry: RetryPolicy;
  /** Where new approval requests are POSTed, signed with `secret` (HMAC-SHA256 of the body); off when unset. */
  approvalWebhook: { url: string; secret: string } | undefined;
  /** After a usage window ends, the requests it parked start this far apart (highest priority first). */
  resumeStaggerMs: number;
  /**
   * This daemon as a node of a cluster (several daemons on one PostgreSQL database): its id
   * (KSI_NODE_ID, default host name and var dir), how long its leases on work last unless renewed,
   * and whether other nodes may share its database (PostgreSQL) at all.
   */
  node: { id: string; host: string; leaseTtlMs: number; clustered: boolean };
  /** Nest devtools' HTTP endpoint on loopback; off when unset. */
  devtoolsPort?: number;
  /** The web dashboard's address; off when KSI_HTTP_PORT is unset. Port 0 takes any free port. */
  dashboard?: { host: string; port: number; tokenFile: string };
  /** Record every event in the event log (ring + SQLite). */
  eventLog: boolean;
  eventRetentionDays: number;
  /** Check every handler's result against its definition and answer `internal_error` when it differs (the test suite runs with it on). */
  checkResults: boolean;
}

/** The Anthropic Messages API provider's settings. */
export interface AnthropicSettings {
  /** KSI_ANTHROPIC_API_KEY, else ANTHROPIC_API_KEY; undefined when unset or empty. Never logged or persisted. */
  apiKey: string | undefined;
  /** ANTHROPIC_BASE_URL; the SDK's default (https://api.anthropic.com) when unset. */
  baseUrl: string | undefined;
  /** `max_tokens` of every request (KSI_ANTHROPIC_MAX_TOKENS). */
  maxTokens: number;
  /** USD per million tokens per model family: built-in list prices with KSI_MODEL_PRICES laid over them. */
  prices: ModelPrices;
}

/** Exponential backoff with full jitter: attempt n waits random(0, min(max, initial × multiplier^(n-1))). */
export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

export class ConfigError extends Error {}

/** Reads and validates the environment; throws ConfigError with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): KsiConfig {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0]);
    const message = issue.message.startsWith(variable) ? issue.message : `${variable}: ${issue.message}`;
    const got = URL_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(env[variable])})`;
    throw new ConfigError(`Invalid configuration: ${message}${got}`);
  }
  const e = parsed.data;
  let prices: ModelPrices;
  try {
    prices = modelPrices(e.KSI_MODEL_PRICES);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
  }
  const webhookSecret = env[APPROVAL_WEBHOOK_SECRET] || undefined;
  if (e.KSI_APPROVAL_WEBHOOK_URL && !webhookSecret) throw new ConfigError(`Invalid configuration: KSI_APPROVAL_WEBHOOK_URL needs ${APPROVAL_WEBHOOK_SECRET}, the key its requests are signed with`);
  const varDir = path.resolve(cwd, e.KSI_VAR_DIR);
  const logDir = path.join(varDir, 'logs');
  const libDir = e.KSI_LIB_DIR ? path.resolve(cwd, e.KSI_LIB_DIR) : defaultLibDir(varDir);
  // A folder without compositions would start a daemon on which every spawn fails.
  if (e.KSI_LIB_DIR && !isDirectory(path.join(libDir, 'compositions'))) {
    throw new ConfigError(`Invalid configuration: KSI_LIB_DIR must be a folder holding compositions/ (and permissions/profiles/); ${libDir} has no compositions folder`);
  }
  return {
    version: (JSON.parse(readFileSync(path.join(installRoot(), 'package.json'), 'utf8')) as { version: string }).version,
    varDir,
    socketPath: path.resolve(cwd, e.KSI_SOCKET_PATH ?? path.join(varDir, 'run', 'daemon.sock')),
    pidFile: path.join(varDir, 'run', 'ksi_daemon.pid'),
    dbPath: path.resolve(cwd, e.KSI_DB_PATH ?? path.join(varDir, 'db', 'ksi.db')),
    databaseUrl: e.KSI_DATABASE_URL,
    libDir,
    logDir,
    daemonLogFile: path.join(logDir, 'daemon', 'daemon.log'),
    responseLogDir: path.join(logDir, 'responses'),
    sandboxDir: path.join(varDir, 'sandbox'),
    logLevel: e.KSI_LOG_LEVEL,
    maxLineBytes: e.KSI_MAX_LINE_BYTES,
    maxOutputBytes: e.KSI_MAX_OUTPUT_BYTES,
    shutdownTimeoutMs: e.KSI_SHUTDOWN_TIMEOUT_MS,
    partialLineTimeoutMs: e.KSI_PARTIAL_LINE_TIMEOUT_MS,
    stateCacheBytes: e.KSI_STATE_CACHE_BYTES,
    eventDataMaxBytes: e.KSI_EVENT_DATA_MAX_BYTES,
    eventLogBufferBytes: e.KSI_EVENT_LOG_BUFFER_BYTES,
    monitorReplyBytes: e.KSI_MONITOR_REPLY_BYTES,
    claudeBin: resolveExecutable(e.CLAUDE_BIN, env.PATH ?? '', cwd),
    defaultModel: e.KSI_DEFAULT_MODEL,
    maxConcurrent: e.KSI_MAX_CONCURRENT,
    anthropic: { apiKey: env[PROVIDER_API_KEY] || env.ANTHROPIC_API_KEY || undefined, baseUrl: e.ANTHROPIC_BASE_URL, maxTokens: e.KSI_ANTHROPIC_MAX_TOKENS, prices },
    completionTimeoutMs: e.KSI_COMPLETION_TIMEOUT_MS,
    devtoolsPort: e.KSI_DEVTOOLS_PORT,
    dashboard: e.KSI_HTTP_PORT === undefined ? undefined : { host: e.KSI_HTTP_HOST, port: e.KSI_HTTP_PORT, tokenFile: path.join(varDir, 'run', 'dashboard.token') },
    eventLog: e.KSI_EVENT_LOG === 'on',
    checkResults: e.KSI_CHECK_RESULTS === 'on',
    eventRetentionDays: e.KSI_EVENT_RETENTION_DAYS,
    resumeStaggerMs: e.KSI_RESUME_STAGGER_MS,
    // Only a PostgreSQL database is shared: on SQLite the daemon is the only node, whatever its name.
    node: { id: e.KSI_NODE_ID ?? `${os.hostname()}:${varDir}`, host: os.hostname(), leaseTtlMs: e.KSI_LEASE_TTL_MS, clustered: e.KSI_DATABASE_URL !== undefined },
    approvalWebhook: e.KSI_APPROVAL_WEBHOOK_URL && webhookSecret ? { url: e.KSI_APPROVAL_WEBHOOK_URL, secret: webhookSecret } : undefined,
    retry: { maxAttempts: e.KSI_RETRY_MAX_ATTEMPTS, initialDelayMs: e.KSI_RETRY_INITIAL_MS, maxDelayMs: e.KSI_RETRY_MAX_MS, multiplier: e.KSI_RETRY_MULTIPLIER },
  };
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

const UNIX_SOCKET_URL = 'postgresql://user@/db?host=/socket/dir&port=5432';

/**
 * Why pg cannot use this KSI_DATABASE_URL, or undefined when it can. It is read with pg's own parser,
 * so what is accepted is what pg connects with (`?host=/socket/dir`, a `%2F`-encoded host); that
 * parser keeps the URL out of its errors, so they can be quoted.
 */
function postgresUrlProblem(url: string): string | undefined {
  if (!/^postgres(ql)?:\/\//.test(url)) return `KSI_DATABASE_URL must be a PostgreSQL URL, such as postgresql://user@host:5432/ksi or ${UNIX_SOCKET_URL}`;
  let database: string | null | undefined;
  let port: string | null | undefined;
  try {
    ({ database, port } = parseConnectionString(url));
  } catch (error) {
    return `KSI_DATABASE_URL is not a URL pg can read (${(error as Error).message}): write postgresql://user:password@host:5432/db with a numeric port and special characters percent-encoded, or for a Unix socket ${UNIX_SOCKET_URL} (pg refuses an empty host before a port, as in user@:5432)`;
  }
  // pg takes `?port=` as it comes and connects to port NaN (or the socket .s.PGSQL.NaN).
  if (port && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return `KSI_DATABASE_URL's port must be a number from 1 to 65535, as in postgresql://user@host:5432/ksi or ${UNIX_SOCKET_URL} (got ${JSON.stringify(port)})`;
  return database ? undefined : `KSI_DATABASE_URL must name a database, as in postgresql://user@host:5432/ksi or ${UNIX_SOCKET_URL}`;
}

/** Injection token for the validated configuration. */
export const KSI_CONFIG = Symbol('KSI_CONFIG');

/** `$KSI_VAR_DIR/lib` when the operator made one, else the library shipped in git. */
function defaultLibDir(varDir: string): string {
  const local = path.join(varDir, 'lib');
  return existsSync(local) ? local : path.join(installRoot(), 'var', 'lib');
}
