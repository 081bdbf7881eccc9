import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { readPid } from './single-instance';

/** `var/run/ksi_daemon.pid`: written once the socket listens, removed at exit (foreground runs too). */
@Injectable()
export class PidFile implements OnApplicationShutdown {
  constructor(@Inject(KSI_CONFIG) private readonly config: KsiConfig) {}

  write(): void {
    fs.mkdirSync(path.dirname(this.config.pidFile), { recursive: true });
    fs.writeFileSync(this.config.pidFile, `${process.pid}\n`);
  }

  onApplicationShutdown(): void {
    if (readPid(this.config.pidFile) === process.pid) fs.rmSync(this.config.pidFile, { force: true });
  }
}
