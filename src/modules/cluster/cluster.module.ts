import { Module } from '@nestjs/common';
import { ClusterNodeRepository } from './cluster-node.repository';
import { ClusterNodes } from './cluster-nodes.service';
import { ClusterHandlers } from './cluster.handlers';

@Module({ providers: [ClusterNodeRepository, ClusterNodes, ClusterHandlers] })
export class ClusterModule {}
