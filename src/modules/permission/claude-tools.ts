/**
 * The built-in tools of Claude Code 2.1, as its `system/init` line lists them (recorded in
 * test/fixtures/recorded/claude-2.1-tools.json; a test keeps the two equal). Glob and Grep are
 * offered only when Bash is not. `Task` is the sub-agent tool (`Agent` in the CLI's docs).
 */
export const CLAUDE_TOOLS = [
  'Bash',
  'CronCreate',
  'CronDelete',
  'CronList',
  'DesignSync',
  'Edit',
  'EnterWorktree',
  'ExitWorktree',
  'Glob',
  'Grep',
  'NotebookEdit',
  'Read',
  'ReportFindings',
  'ScheduleWakeup',
  'SendMessage',
  'Skill',
  'Task',
  'TaskCreate',
  'TaskGet',
  'TaskList',
  'TaskOutput',
  'TaskStop',
  'TaskUpdate',
  'ToolSearch',
  'WebFetch',
  'WebSearch',
  'Workflow',
  'Write',
];

/**
 * The permission rule for every tool of the agent's own `ksi` MCP server (the CLI's syntax for a
 * whole server). Always pre-approved: that server offers only the events the agent's profile lets
 * it send, and the daemon checks each one again.
 */
export const KSI_MCP_TOOLS = 'mcp__ksi';
