import { Inject, Injectable } from '@nestjs/common';
import { appendFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { StandardResponse } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';

/** `var/logs/responses/<returned session_id>.jsonl`: one line per completed turn, read back by conversations. */
@Injectable()
export class ResponseLog {
  constructor(@Inject(KSI_CONFIG) private readonly config: KsiConfig) {}

  fileOf(sessionId: string): string {
    return path.join(this.config.responseLogDir, `${sessionId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
  }

  async append(sessionId: string, line: StandardResponse): Promise<void> {
    await mkdir(this.config.responseLogDir, { recursive: true });
    await appendFile(this.fileOf(sessionId), `${JSON.stringify(line)}\n`);
  }
}
