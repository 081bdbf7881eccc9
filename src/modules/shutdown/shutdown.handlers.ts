import { Injectable } from '@nestjs/common';
import { emptyParams } from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';

@Injectable()
export class ShutdownHandlers {
  /** Replies first, then takes the same path as SIGTERM, so there is one shutdown sequence. */
  @Handles('system:shutdown', { summary: 'Stop the daemon gracefully (the same path as SIGTERM)', params: emptyParams })
  shutdown(): { status: 'shutting_down'; pid: number } {
    setImmediate(() => process.kill(process.pid, 'SIGTERM'));
    return { status: 'shutting_down', pid: process.pid };
  }
}
