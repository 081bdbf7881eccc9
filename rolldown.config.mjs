// Bundles the daemon, the CLI and the event log's writer thread from tsc's output into dist/bundle.
// Node then loads a few large files instead of ~1,100 small ones (Nest 12 alone is ESM that Node 20
// loads module by module): bin/ksi-daemon and bin/ksi run them.
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: {
    daemon: 'dist/apps/daemon/main.js',
    ksi: 'dist/apps/cli/main.js',
    // Loaded by file name, from the same folder, as a worker thread (event-log.writer-thread.ts).
    'event-log.writer': 'dist/src/modules/monitor/event-log.writer.js',
  },
  platform: 'node',
  external: [
    // Loaded from node_modules: a native addon, and what must be one instance with the copy TypeORM
    // loads at run time (PlatformTools.load('pg'); @nestjs/typeorm's createRequire('typeorm')), such
    // as pg's type parsers and the Reflect metadata Nest and TypeORM share.
    'better-sqlite3',
    'pg',
    'typeorm',
    'reflect-metadata',
    // It runs the xdg-open script shipped beside its own files.
    'open',
    // Optional packages KSI does not install: their users try them and go on without (pg's native
    // binding; Nest's HTTP, WebSocket, validation and broker transports).
    'pg-native',
    /^@nestjs\/(platform-express|websockets)/,
    /^(class-transformer|class-validator|ioredis|kafkajs|mqtt|amqp-connection-manager|@nats-io\/transport-node)$/,
    // The TypeScript compiler (7.7 MB), which cosmiconfig (through nest-commander) loads only for a
    // TypeScript config file, and nest-commander reads none.
    'typescript',
  ],
  // A warning (an import left unresolved, so required at run time from wherever) fails the build.
  onLog(level, log, handler) {
    handler(level === 'warn' ? 'error' : level, log);
  },
  output: {
    format: 'cjs',
    dir: 'dist/bundle',
    // Nest names providers and modules by their classes' names in its errors and logs.
    keepNames: true,
    cleanDir: true,
    // V8 keeps each script's source, two bytes a character if one character is beyond Latin-1: escaped,
    // and without JSDoc comments, the daemon's sources take ~6 MB of its RSS instead of ~12.
    charset: 'ascii',
    comments: { legal: true, annotation: true, jsdoc: false },
  },
});
