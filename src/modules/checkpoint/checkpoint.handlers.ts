import { Injectable } from '@nestjs/common';
import { noLifecycleParams, type CheckpointSaved, type RestoreSummary } from '../../../libs/client/src';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { CheckpointService } from './checkpoint.service';

@Injectable()
export class CheckpointHandlers {
  constructor(private readonly checkpoints: CheckpointService) {}

  @Handles('dev:checkpoint', { summary: 'Write a checkpoint of everything in flight now', params: noLifecycleParams })
  checkpoint(): Promise<CheckpointSaved> {
    return this.checkpoints.write('manual');
  }

  @Handles('dev:restore', { summary: 'Restore the newest checkpoint now', params: noLifecycleParams })
  async restore(): Promise<RestoreSummary> {
    const summary = await this.checkpoints.restore(false);
    if (!summary) throw new EventError('not_found', 'No checkpoint found; write one with dev:checkpoint');
    return summary;
  }

  @Handles('checkpoint:write', { summary: 'Write the checkpoint at shutdown', params: noLifecycleParams, internal: true })
  async write(): Promise<{ checkpoint_id: number }> {
    return { checkpoint_id: (await this.checkpoints.write('shutdown')).checkpoint_id };
  }
}
