import * as path from 'node:path';
import { installRoot } from '../../src/config/install-root';

/**
 * The Node flags the daemon runs with, wherever it is started from: `ksi daemon start|run|dev`, the
 * bench and the tests use these; package.json's start script spells them out (a test keeps the two
 * equal). Measured with `npm run bench`:
 * - `--max-semi-space-size=8`: V8's default, 16, grows the young generation to 2 x 16 MB while the
 *   daemon loads (~13 MB more RSS right after start) and keeps it after a burst. With 4, pipelined
 *   state:set scavenged nearly twice as often (210 against 113 times per 100k sets; 140 against
 *   85 ms of pauses), ~10% of its throughput. Against 4, 8 costs ~8 MB of RSS until V8's memory
 *   reducer runs, after ~20 s of idle.
 * - `--v8-pool-size=0`: V8's helper threads sized to the machine's cores instead of a fixed four.
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=8', '--v8-pool-size=0'];

/** The daemon's entry point: it loads the bundle of main.ts (rolldown.config.mjs). */
export const DAEMON_MAIN = path.join(installRoot(), 'bin', 'ksi-daemon');

/** Arguments to `node` (process.execPath) that start the daemon. */
export const daemonNodeArgs = (main = DAEMON_MAIN): string[] => [...DAEMON_NODE_FLAGS, main];
