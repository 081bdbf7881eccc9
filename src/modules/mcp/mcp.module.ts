import { Module } from '@nestjs/common';
import { McpHandlers } from './mcp.handlers';
import { McpService } from './mcp.service';

@Module({ providers: [McpService, McpHandlers] })
export class McpModule {}
