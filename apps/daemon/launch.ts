import * as path from 'node:path';
import { installRoot } from '../../src/config/install-root';

/**
 * The Node flags the daemon runs with, wherever it is started from: `ksi daemon start|run|dev`, the
 * bench and the tests use these; package.json's start script spells them out (a test keeps the two
 * equal). Measured with `npm run bench`:
 * - `--max-semi-space-size=4`: V8 grows its young generation to 2 x 16 MB while the daemon loads and
 *   it stays resident; the daemon's garbage is per request and small. ~20 MB less RSS, same throughput.
 * - `--v8-pool-size=0`: V8's helper threads sized to the machine's cores instead of a fixed four.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=4', '--v8-pool-size=0'];

/** The daemon's entry point: it loads the bundle of main.ts (rolldown.config.mjs). */
export const DAEMON_MAIN = path.join(installRoot(), 'bin', 'ksi-daemon');

/** Arguments to `node` (process.execPath) that start the daemon. */
export const daemonNodeArgs = (main = DAEMON_MAIN): string[] => [...DAEMON_NODE_FLAGS, main];
