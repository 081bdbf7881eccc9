import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentPermission } from './agent-permission.entity';
import { PermissionHandlers } from './permission.handlers';
import { PermissionService } from './permission.service';
import { Sandbox } from './sandbox.entity';
import { SandboxService } from './sandbox.service';

@Module({
  imports: [TypeOrmModule.forFeature([AgentPermission, Sandbox])],
  providers: [PermissionService, SandboxService, PermissionHandlers],
})
export class PermissionModule {}
