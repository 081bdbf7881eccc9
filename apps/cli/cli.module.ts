import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { Command as Program } from 'commander';
import { InjectCommander } from 'nest-commander';
import { EXIT } from './cli-error';
import { daemonSubCommands, DaemonCommand } from './commands/daemon/daemon.command';
import { dbSubCommands, DbCommand } from './commands/db/db.command';
import { agentCommands } from './commands/agent.command';
import { approvalCommands } from './commands/approval.command';
import { budgetCommands } from './commands/budget.command';
import { CompleteCommand } from './commands/complete.command';
import { CompletionCommand } from './commands/completion.command';
import { conversationCommands } from './commands/conversation.command';
import { CostsCommand } from './commands/costs.command';
import { DashboardCommand } from './commands/dashboard.command';
import { DiscoverCommand } from './commands/discover.command';
import { HelpCommand } from './commands/help.command';
import { McpCommand } from './commands/mcp.command';
import { TraceCommand } from './commands/trace.command';
import { MonitorCommand } from './commands/monitor.command';
import { NodesCommand } from './commands/nodes.command';
import { SendCommand } from './commands/send.command';
import { StatusCommand } from './commands/status.command';
import { GetCommand, GetStateCommand, SetCommand, SetStateCommand } from './commands/state.command';

const EXAMPLES = `
Examples:
  $ ksi daemon start                              start the daemon in the background
  $ ksi status                                    the daemon, queue, approvals and agents at a glance
  $ ksi send system:health                        send any event
  $ ksi send state:set --key config --value '{"theme":"dark"}'
  $ ksi get state --key config
  $ ksi discover --namespace state                list events
  $ ksi help state:set                            describe one event
  $ ksi monitor 'state:*'                         stream events live
  $ ksi trace <correlation_id>                    what one request caused, as a tree
  $ ksi complete "Summarise README.md" --wait     run a Claude turn and print the result
  $ ksi agent spawn researcher --id r1            start an agent; ksi agent send r1 "…"
  $ ksi conversation list                         conversations from the response logs
  $ ksi costs --by day --since 7d                 what completions cost, per day of the last week
  $ ksi db export -o backup.ndjson                the whole database; ksi db import moves it to another
  $ ksi dashboard --open                          the web dashboard (daemon started with KSI_HTTP_PORT)
  $ ksi daemon stop

Exit status: 0 success, 1 the daemon answered with an error, 2 usage error, 3 daemon not reachable.
Every command takes --socket PATH (default: $KSI_SOCKET_PATH, else $KSI_VAR_DIR/run/daemon.sock).`;

const SUCCESS_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * Finishes the program nest-commander built: examples in `ksi --help`, and usage errors exit 2 on
 * every command (commands added with addCommand do not inherit the root's exit handling).
 */
@Injectable()
class ProgramSetup implements OnApplicationBootstrap {
  constructor(@InjectCommander() private readonly program: Program) {}

  onApplicationBootstrap(): void {
    this.program.addHelpText('after', EXAMPLES);
    const exitOnUsageError = (command: Program) => {
      command.exitOverride((error) => process.exit(SUCCESS_CODES.has(error.code) ? EXIT.ok : EXIT.usage));
      command.commands.forEach(exitOnUsageError);
    };
    exitOnUsageError(this.program);
  }
}

@Module({
  providers: [
    ProgramSetup,
    SendCommand,
    GetCommand,
    GetStateCommand,
    SetCommand,
    SetStateCommand,
    DiscoverCommand,
    HelpCommand,
    MonitorCommand,
    CompleteCommand,
    CompletionCommand,
    McpCommand,
    TraceCommand,
    CostsCommand,
    DashboardCommand,
    StatusCommand,
    NodesCommand,
    ...agentCommands,
    ...budgetCommands,
    ...approvalCommands,
    ...conversationCommands,
    DaemonCommand,
    ...daemonSubCommands,
    DbCommand,
    ...dbSubCommands,
  ],
})
export class CliModule {}
