import * as http from 'node:http';
import * as net from 'node:net';
import { DaemonProcess } from './support/daemon-process';

const FEATURE_MODULES = [
  'StateModule',
  'HealthModule',
  'DiscoveryModule',
  'ShutdownModule',
  'MonitorModule',
  'CompletionModule',
  'CheckpointModule',
  'CompositionModule',
  'PermissionModule',
  'McpModule',
  'MessageModule',
  'AgentModule',
  'ConversationModule',
];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function get(port: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/inspector/graph/snapshot', headers }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('Nest devtools (KSI_DEVTOOLS_PORT)', () => {
  let port: number;
  let daemon: DaemonProcess;
  beforeAll(async () => {
    port = await freePort();
    daemon = new DaemonProcess({ env: { KSI_DEVTOOLS_PORT: String(port) } });
    await daemon.start();
  });
  afterAll(() => daemon.dispose());

  it('serves the module graph on loopback, with every feature module, only to the devtools origin', async () => {
    expect((await get(port)).status).toBe(403);
    const { status, body } = await get(port, { Origin: 'https://devtools.nestjs.com' });
    expect(status).toBe(200);
    const graph = JSON.parse(body) as { nodes: Record<string, { label: string; metadata: { type: string } }> };
    const modules = Object.values(graph.nodes)
      .filter((node) => node.metadata.type === 'module')
      .map((node) => node.label);
    expect(modules).toEqual(expect.arrayContaining(FEATURE_MODULES));
  });
});
