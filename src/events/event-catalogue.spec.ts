import { Global, Injectable, Module, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { defineInternal, defineRequest, EVENT_DEFINITIONS, stateGet, z, type EventDefinition } from '../../libs/client/src';
import pino from 'pino';
import { KSI_CONFIG, loadConfig } from '../config/config';
import { DAEMON_LOG } from '../logging/logger';
import { EVENT_CONTRACT, EventCatalogue } from './event-catalogue';
import { EventsModule } from './events.module';
import { Handles, Listens } from './handles.decorator';

const uncatalogued = defineRequest('probe:uncatalogued', { summary: 'not in the contract', params: z.object({}), result: z.object({}) });
const lookalike = defineRequest('state:get', { summary: 'same name, not the contract object', params: z.object({}), result: z.object({}) });

@Injectable()
class StrayHandlers {
  @Handles(uncatalogued)
  stray() {
    return {};
  }

  @Handles(lookalike)
  impostor() {
    return {};
  }
}

const ping = defineInternal('probe:ping', { summary: 'a notification', params: z.object({}), result: z.void() });
const ask = defineInternal('probe:ask', { summary: 'answered', params: z.object({}), result: z.object({}) });

@Injectable()
class CrossedKinds {
  @Handles(ping)
  answerNotification(): undefined {
    return undefined;
  }

  @Listens(ask)
  listenToRequest(): void {}
}

@Injectable()
class StateGetOnly {
  @Handles(stateGet)
  get() {
    return { value: null, found: false, namespace: 'global', key: 'k' };
  }
}

@Global()
@Module({
  providers: [
    { provide: KSI_CONFIG, useValue: loadConfig({ KSI_VAR_DIR: '/nonexistent' }) },
    { provide: DAEMON_LOG, useValue: pino({ level: 'silent' }) },
  ],
  exports: [KSI_CONFIG, DAEMON_LOG],
})
class ConfigStub {}

async function start(providers: Provider[], contract: readonly EventDefinition[]): Promise<EventCatalogue> {
  @Module({ imports: [ConfigStub, EventsModule], providers })
  class Probe {}
  const moduleRef = await Test.createTestingModule({ imports: [Probe] }).overrideProvider(EVENT_CONTRACT).useValue(contract).compile();
  await moduleRef.init();
  return moduleRef.get(EventCatalogue);
}

describe('EventCatalogue at start', () => {
  it('refuses to start when a request of the contract has no handler, naming it', async () => {
    await expect(start([], EVENT_DEFINITIONS)).rejects.toThrow(/state:get is a request in the contract but nothing handles it/);
  });

  it('refuses a handler whose definition is not the contract’s', async () => {
    const failure = start([StrayHandlers, StateGetOnly], [stateGet]);
    await expect(failure).rejects.toThrow(/StrayHandlers\.stray handles probe:uncatalogued, which the contract does not define/);
    await expect(start([StrayHandlers, StateGetOnly], [stateGet])).rejects.toThrow(/StrayHandlers\.impostor handles a definition of state:get that is not the contract's/);
  });

  it('refuses a handler of a notification and a listener of an answered event', async () => {
    const failure = start([CrossedKinds, StateGetOnly], [stateGet, ping, ask]);
    await expect(failure).rejects.toThrow(/CrossedKinds\.answerNotification handles probe:ping, a notification: listen to it with @Listens/);
    await expect(start([CrossedKinds, StateGetOnly], [stateGet, ping, ask])).rejects.toThrow(/CrossedKinds\.listenToRequest listens to probe:ask, which handlers answer/);
  });

  it('refuses a contract that defines a name twice', async () => {
    await expect(start([StateGetOnly], [stateGet, lookalike])).rejects.toThrow(/state:get is defined twice in the contract/);
  });

  it('starts when every request has a handler and every handler a definition', async () => {
    const catalogue = await start([StateGetOnly], [stateGet]);
    expect(catalogue.eventNames()).toEqual(['state:get']);
    expect(catalogue.handlersOf('state:get')?.map((entry) => entry.handler)).toEqual(['StateGetOnly.get']);
  });
});
