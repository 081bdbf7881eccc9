import { Module } from '@nestjs/common';
import { QueueRepository } from './queue.repository';
import { StateRepository } from './state.repository';
import { StateHandlers } from './state.handlers';
import { StateService } from './state.service';

@Module({
  providers: [StateRepository, QueueRepository, StateService, StateHandlers],
})
export class StateModule {}
