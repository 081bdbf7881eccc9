import type { Socket } from 'node:net';
import { LINE_TOO_LONG, LineSplitter, type Frame } from '../libs/client/src/framing';

/** Calls `onLine` with every JSON line the socket sends (the project's own framing). */
export function onJsonLines(socket: Socket, onLine: (message: Record<string, any>) => void): void {
  const splitter = new LineSplitter();
  const frames: Frame[] = [];
  socket.on('data', (chunk: Buffer) => {
    splitter.push(chunk, frames);
    for (const frame of frames.splice(0)) if (frame !== LINE_TOO_LONG) onLine(JSON.parse(frame));
  });
}
