import { Injectable } from '@nestjs/common';
import { checkpointWrite, devCheckpoint, devRestore, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { CheckpointService } from './checkpoint.service';

@Injectable()
export class CheckpointHandlers {
  constructor(private readonly checkpoints: CheckpointService) {}

  @Handles(devCheckpoint)
  checkpoint(): Promise<HandlerResult<typeof devCheckpoint>> {
    return this.checkpoints.write('manual');
  }

  @Handles(devRestore)
  async restore(): Promise<HandlerResult<typeof devRestore>> {
    const summary = await this.checkpoints.restore(false);
    if (!summary) throw new EventError('not_found', 'No checkpoint found; write one with dev:checkpoint');
    return summary;
  }

  @Handles(checkpointWrite)
  async write({ reason }: ParamsOut<typeof checkpointWrite>): Promise<HandlerResult<typeof checkpointWrite>> {
    return { checkpoint_id: (await this.checkpoints.write(reason)).checkpoint_id };
  }
}
