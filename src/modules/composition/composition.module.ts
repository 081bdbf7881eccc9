import { Module } from '@nestjs/common';
import { CompositionHandlers } from './composition.handlers';
import { CompositionLibrary } from './composition.library';
import { CompositionRepository } from './composition.repository';
import { CompositionResolver } from './composition.resolver';
import { CompositionService } from './composition.service';

@Module({ providers: [CompositionRepository, CompositionLibrary, CompositionResolver, CompositionService, CompositionHandlers] })
export class CompositionModule {}
