import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ContractCheck } from './contract-check';
import { Dispatcher } from './dispatcher';
import { EventBus } from './event-bus';
import { EventCatalogue, eventContractProvider } from './event-catalogue';
import { EventTap } from './event-tap';
import { MethodDiscovery } from './method-discovery';
import { RequestGuards } from './request-guard';

@Global()
@Module({
  imports: [DiscoveryModule, EventEmitterModule.forRoot()],
  providers: [eventContractProvider, ContractCheck, EventCatalogue, Dispatcher, EventBus, EventTap, RequestGuards, MethodDiscovery],
  exports: [ContractCheck, EventCatalogue, Dispatcher, EventBus, EventTap, RequestGuards, MethodDiscovery],
})
export class EventsModule {}
