import { Inject, Injectable } from '@nestjs/common';
import { clusterNodes, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import type { EventContext } from '../../events/event-context';
import { Handles } from '../../events/handles.decorator';
import { ClusterNodes } from './cluster-nodes.service';

@Injectable()
export class ClusterHandlers {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly nodes: ClusterNodes,
  ) {}

  @Handles(clusterNodes)
  async nodesList({ include_dead }: ParamsOut<typeof clusterNodes>, context: EventContext): Promise<HandlerResult<typeof clusterNodes>> {
    return { node_id: this.config.node.id, lease_ttl_ms: this.config.node.leaseTtlMs, nodes: await this.nodes.list(include_dead, context) };
  }
}
