import { Module } from '@nestjs/common';
import { DiscoveryHandlers } from './discovery.handlers';
import { CatalogueFormatService } from './catalogue-format.service';

@Module({ providers: [CatalogueFormatService, DiscoveryHandlers] })
export class DiscoveryModule {}
