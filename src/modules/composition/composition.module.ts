import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CompositionIndexEntry } from './composition-index.entity';
import { CompositionHandlers } from './composition.handlers';
import { CompositionLibrary } from './composition.library';
import { CompositionResolver } from './composition.resolver';
import { CompositionService } from './composition.service';
import { DynamicComposition } from './dynamic-composition.entity';

@Module({
  imports: [TypeOrmModule.forFeature([CompositionIndexEntry, DynamicComposition])],
  providers: [CompositionLibrary, CompositionResolver, CompositionService, CompositionHandlers],
})
export class CompositionModule {}
