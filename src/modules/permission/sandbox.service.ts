import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSafeId, type SandboxInfo } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventError } from '../../events/event-error';
import type { Sandbox } from './sandbox.entity';
import { SandboxRepository } from './sandbox.repository';
import { addWorktree, agentBranch, initWorkspace, isBranchName, removeWorktree, repositoryRoot } from './git-workspace';

/**
 * Agents' working directories under var/sandbox: isolated, shared per session, or nested in a
 * parent's. Each workspace is a git repository of its own, or (isolated, with a repository named)
 * a worktree of that repository on the agent's branch `ksi/<agent_id>`.
 */
@Injectable()
export class SandboxService implements OnModuleInit {
  private readonly creating = new Map<string, Promise<SandboxInfo>>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly sandboxes: SandboxRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Workspaces made before each was a repository of its own get one, before any agent's turn runs in them. */
  async onModuleInit(): Promise<void> {
    for (const row of await this.sandboxes.all()) await this.initOldWorkspace(row);
  }

  /** A workspace that is neither a worktree nor a repository (made before workspaces were) is git init-ed. */
  private async initOldWorkspace(row: Sandbox): Promise<void> {
    const workspace = toInfo(row).workspace;
    if (row.gitDir === null && fs.existsSync(workspace) && !fs.existsSync(path.join(workspace, '.git'))) await initWorkspace(workspace);
  }

  /** One create per agent id at a time: a second one waits and returns the first's sandbox, never deleting its folder on a failure. */
  async create(agentId: string, mode: SandboxInfo['mode'], parentAgentId?: string, sessionId?: string, repository?: string): Promise<SandboxInfo> {
    const mine = (this.creating.get(agentId) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.createNow(agentId, mode, parentAgentId, sessionId, repository));
    this.creating.set(agentId, mine);
    try {
      return await mine;
    } finally {
      if (this.creating.get(agentId) === mine) this.creating.delete(agentId);
    }
  }

  private async createNow(agentId: string, mode: SandboxInfo['mode'], parentAgentId?: string, sessionId?: string, repository?: string): Promise<SandboxInfo> {
    const existing = await this.sandboxes.find(agentId);
    if (existing) {
      await this.initOldWorkspace(existing);
      return toInfo(existing);
    }
    if (!isSafeId(agentId)) throw new EventError('invalid_params', `agent_id: ${JSON.stringify(agentId)} cannot name a folder (1-128 letters, digits, . _ -, starting with a letter or digit)`);
    if (repository !== undefined && mode !== 'isolated') throw new EventError('invalid_params', `A repository's worktree is an isolated sandbox; mode ${mode} cannot have one`);
    if (repository !== undefined && !(await isBranchName(agentBranch(agentId)))) {
      throw new EventError('invalid_params', `agent_id: ${JSON.stringify(agentId)} cannot name the git branch ${agentBranch(agentId)} (no "..", no ending in "." or ".lock"); pick another agent_id`);
    }
    const repositoryTop = repository === undefined ? undefined : await repositoryRoot(repository);
    let dir: string;
    if (mode === 'shared') {
      if (!isSafeId(sessionId)) throw new EventError('invalid_params', 'config.session_id: a shared sandbox needs a session_id of 1-128 letters, digits, . _ -, starting with a letter or digit');
      dir = this.inside(path.join(this.config.sandboxDir, 'shared'), sessionId);
    } else if (mode === 'nested') {
      const parent = parentAgentId ? await this.find(parentAgentId) : undefined;
      if (!parent) throw new EventError('not_found', `A nested sandbox needs the sandbox of its parent; none for ${parentAgentId ?? '(no parent_agent_id)'}`);
      dir = this.inside(path.join(parent.path, 'nested'), agentId);
    } else {
      dir = this.inside(path.join(this.config.sandboxDir, 'agents'), agentId);
    }
    for (const sub of ['shared', 'exports', '.claude']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    const workspace = path.join(dir, 'workspace');
    let gitDir: string | null = null;
    try {
      if (repositoryTop === undefined) await initWorkspace(workspace);
      else gitDir = await addWorktree(repositoryTop, workspace, agentBranch(agentId));
    } catch (error) {
      if (mode !== 'shared') fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    if (mode === 'nested' && parentAgentId) {
      const link = path.join(dir, 'parent');
      if (!fs.existsSync(link)) fs.symlinkSync(path.join((await this.find(parentAgentId))!.path, 'workspace'), link);
    }
    const row: Sandbox = { agentId, path: dir, mode, parentAgentId: parentAgentId ?? null, sessionId: sessionId ?? null, gitDir, createdAt: this.clock.now() };
    const metadata = { agent_id: agentId, path: dir, mode, parent_agent_id: row.parentAgentId, session_id: row.sessionId, git_dir: gitDir, created_at: row.createdAt };
    fs.writeFileSync(path.join(dir, '.sandbox_metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
    await this.sandboxes.insert(row);
    return toInfo(row);
  }

  /** `root/name`, refused unless it is a folder directly inside `root`: the last guard before the disk. */
  private inside(root: string, name: string): string {
    const dir = path.resolve(root, name);
    if (path.dirname(dir) !== path.resolve(root)) throw new EventError('invalid_params', `${JSON.stringify(name)} would not name a folder inside ${root}`);
    return dir;
  }

  /**
   * Whether the row's path is the agent's own folder, `…/<agent_id>` below the sandbox dir. A row
   * written before ids were validated (agent `.` or `..`) names a folder holding other agents' sandboxes.
   */
  private isOwnFolder(sandbox: SandboxInfo): boolean {
    const dir = path.resolve(sandbox.path);
    const relative = path.relative(path.resolve(this.config.sandboxDir), dir);
    return isSafeId(sandbox.agent_id) && path.basename(dir) === sandbox.agent_id && relative !== '' && relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative);
  }

  async find(agentId: string): Promise<SandboxInfo | undefined> {
    const row = await this.sandboxes.find(agentId);
    return row && toInfo(row);
  }

  async get(agentId: string): Promise<SandboxInfo> {
    const sandbox = await this.find(agentId);
    if (!sandbox) throw new EventError('not_found', `No sandbox found for agent: ${agentId}`);
    return sandbox;
  }

  async list(): Promise<SandboxInfo[]> {
    return (await this.sandboxes.all()).map(toInfo);
  }

  /** Deletes the folder (a shared one stays for the rest of its session); nested children need force. */
  async remove(agentId: string, force: boolean): Promise<boolean> {
    const row = await this.sandboxes.find(agentId);
    if (!row) return false;
    const sandbox = toInfo(row);
    const children = (await this.list()).filter((other) => other.parent_agent_id === agentId);
    if (children.length > 0 && !force) {
      throw new EventError('invalid_state', `Sandbox of ${agentId} has nested sandboxes (${children.map((c) => c.agent_id).join(', ')}); pass force: true`);
    }
    for (const child of children) await this.remove(child.agent_id, true);
    if (sandbox.mode !== 'shared' && this.isOwnFolder(sandbox)) {
      if (row.gitDir !== null) await removeWorktree(row.gitDir, sandbox.workspace, agentId);
      fs.rmSync(sandbox.path, { recursive: true, force: true });
    }
    await this.sandboxes.delete(agentId);
    return true;
  }
}

function toInfo(row: Sandbox): SandboxInfo {
  return {
    agent_id: row.agentId,
    path: row.path,
    mode: row.mode as SandboxInfo['mode'],
    parent_agent_id: row.parentAgentId,
    session_id: row.sessionId,
    created_at: row.createdAt / 1000,
    workspace: path.join(row.path, 'workspace'),
  };
}
