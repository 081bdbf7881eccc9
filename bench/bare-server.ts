import * as fs from 'node:fs';
import * as net from 'node:net';

/**
 * The baseline: a bare Node NDJSON server over a Unix socket doing the least possible work —
 * parse, a Map (and a set of subscribers for broadcasts), the same envelope, one write per chunk of
 * input. Every KSI figure is a ratio to it.
 */
const socketPath = process.argv[2];
/** `--discard`: acknowledge state:set without keeping the value (the memory section's baseline). */
const discard = process.argv[3] === '--discard';
const store = new Map<string, unknown>();
const subscribers = new Set<net.Socket>();
fs.rmSync(socketPath, { force: true });

net
  .createServer((socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let out = '';
      let start = 0;
      let newline: number;
      while ((newline = pending.indexOf('\n', start)) !== -1) {
        const request = JSON.parse(pending.slice(start, newline));
        start = newline + 1;
        const { key, value, namespace = 'global' } = request.data;
        let data: unknown;
        if (request.event === 'message:subscribe') {
          subscribers.add(socket);
          socket.once('close', () => subscribers.delete(socket));
          data = { status: 'subscribed' };
        } else if (request.event === 'message:publish') {
          const line = `${JSON.stringify({ event: 'message:delivered', data: { type: request.data.event_type, ...request.data.message }, timestamp: Date.now() / 1000, push: true })}\n`;
          for (const subscriber of subscribers) if (subscriber !== socket) subscriber.write(line);
          data = { status: 'published' };
        } else if (request.event === 'state:set') {
          if (!discard) store.set(`${namespace}\0${key}`, value);
          data = { status: 'set', namespace, key };
        } else {
          const stored = store.get(`${namespace}\0${key}`);
          data = { value: stored ?? null, found: stored !== undefined, namespace, key };
        }
        out += `${JSON.stringify({ event: request.event, data, count: 1, correlation_id: request.correlation_id, timestamp: Date.now() / 1000 })}\n`;
      }
      pending = pending.slice(start);
      if (out) socket.write(out);
    });
  })
  .listen(socketPath, () => process.send?.('ready'));
