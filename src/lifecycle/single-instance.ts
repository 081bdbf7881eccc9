import * as fs from 'node:fs';
import * as net from 'node:net';
import type { KsiConfig } from '../config/config';

export class AlreadyRunningError extends Error {}

/** Refuses to start when another daemon answers on the socket; never steals a live daemon's socket. */
export async function assertNotRunning(config: KsiConfig): Promise<void> {
  if (!(await answers(config.socketPath))) return;
  const pid = readPid(config.pidFile);
  throw new AlreadyRunningError(`A KSI daemon is already running${pid ? ` (PID ${pid})` : ''} on ${config.socketPath}. Stop it with \`npx ksi daemon stop\`.`);
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
