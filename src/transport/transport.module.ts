import { Global, Module } from '@nestjs/common';
import { ConnectionRegistry } from './connection-registry';
import { NdjsonServer } from './ndjson.server';

@Global()
@Module({ providers: [ConnectionRegistry, NdjsonServer], exports: [ConnectionRegistry, NdjsonServer] })
export class TransportModule {}
