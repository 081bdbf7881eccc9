import * as net from 'node:net';
import { onJsonLines } from './lines';

/**
 * Fan-out: `subscribers` connections subscribe to one message type; one publisher sends `messages`
 * publishes (at most `window` unanswered); resolves with deliveries per second once every subscriber
 * has every message.
 */
export async function fanOut(socketPath: string, subscribers: number, messages: number, window = 16): Promise<number> {
  const connections = await Promise.all(Array.from({ length: subscribers }, () => connect(socketPath)));
  let received = 0;
  const done = new Promise<void>((resolve) => {
    for (const connection of connections) {
      onJsonLines(connection, (line) => {
        if (line.event === 'message:delivered' && ++received === subscribers * messages) resolve();
      });
    }
  });
  await Promise.all(connections.map((connection, i) => request(connection, { event: 'message:subscribe', data: { event_types: ['BENCH'], agent_id: `sub-${i}` } })));
  const publisher = await connect(socketPath);
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let answered = 0;
    const send = (n: number) => {
      let out = '';
      for (let i = 0; i < n && sent < messages; i++, sent++) out += `${JSON.stringify({ event: 'message:publish', data: { event_type: 'BENCH', message: { n: sent } } })}\n`;
      if (out) publisher.write(out);
    };
    onJsonLines(publisher, () => {
      if (++answered === messages) resolve();
      else send(1);
    });
    send(window);
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  for (const connection of [...connections, publisher]) connection.destroy();
  return (subscribers * messages) / seconds;
}

function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function request(socket: net.Socket, body: unknown): Promise<void> {
  return new Promise((resolve) => {
    socket.once('data', () => resolve());
    socket.write(`${JSON.stringify(body)}\n`);
  });
}
