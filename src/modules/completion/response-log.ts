import { Inject, Injectable } from '@nestjs/common';
import { appendFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { isSafeId, type StandardResponse } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';

/** `var/logs/responses/<returned session_id>.jsonl`: one line per turn this node completed (conversations read every node's from the database). */
@Injectable()
export class ResponseLog {
  constructor(@Inject(KSI_CONFIG) private readonly config: KsiConfig) {}

  /** Only a safe session id names a file: nothing else reaches this far (the provider refuses it). */
  fileOf(sessionId: string): string {
    if (!isSafeId(sessionId)) throw new Error(`not a usable session id for a response log: ${JSON.stringify(sessionId).slice(0, 100)}`);
    return path.join(this.config.responseLogDir, `${sessionId}.jsonl`);
  }

  async append(sessionId: string, line: StandardResponse): Promise<void> {
    await mkdir(this.config.responseLogDir, { recursive: true });
    await appendFile(this.fileOf(sessionId), `${JSON.stringify(line)}\n`);
  }
}
