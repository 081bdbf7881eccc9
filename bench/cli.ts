import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const KSI_BIN = path.resolve(__dirname, '../../bin/ksi');

export interface CommandTiming {
  p50Ms: number;
  p90Ms: number;
}

/** Wall time of a whole command, process start to exit, over `runs` runs. */
export function timeCommand(args: string[], env: NodeJS.ProcessEnv, runs = 15): CommandTiming {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited with ${result.status}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50Ms: times[Math.floor(runs / 2)], p90Ms: times[Math.floor(runs * 0.9)] };
}

export const ksiCommand = (...args: string[]) => [KSI_BIN, ...args];
