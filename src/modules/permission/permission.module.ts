import { Module } from '@nestjs/common';
import { AgentPermissionRepository } from './agent-permission.repository';
import { PermissionHandlers } from './permission.handlers';
import { PermissionService } from './permission.service';
import { SandboxRepository } from './sandbox.repository';
import { SandboxService } from './sandbox.service';

@Module({ providers: [AgentPermissionRepository, SandboxRepository, PermissionService, SandboxService, PermissionHandlers] })
export class PermissionModule {}
