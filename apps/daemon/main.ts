#!/usr/bin/env node
import { ConfigError } from '../../src/config/config';
import { startDaemon } from '../../src/daemon';
import { StartupError } from '../../src/lifecycle/startup-failure';

startDaemon().then(
  ({ config }) => console.log(`KSI daemon ${config.version} ready — pid ${process.pid}, socket ${config.socketPath}, log ${config.daemonLogFile}`),
  (error: Error) => {
    const expected = error instanceof ConfigError || error instanceof StartupError;
    console.error(expected ? error.message : `KSI daemon failed to start: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
