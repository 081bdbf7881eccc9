import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { EventError } from '../../events/event-error';

const execFileAsync = promisify(execFile);

/** Commits KSI makes itself (an agent's uncommitted work at terminate) need an identity even where git has none. */
const KSI_IDENTITY = ['-c', 'user.name=KSI', '-c', 'user.email=ksi@localhost'];

/**
 * Agents' workspaces as git repositories, so the Claude CLI takes the workspace as its project and
 * never the repository around it (KSI's own checkout, its memory and settings). Git runs with argv,
 * never a shell, and `--` before every path.
 */
export async function git(args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    return stdout.trim();
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new EventError('git_missing', 'git is not installed or not on PATH; agents need it for their workspaces');
    const said = (failure.stderr ?? '').trim().split('\n').pop() || failure.message;
    throw new EventError('git_failed', `git ${args.filter((arg) => arg !== '--').slice(0, 2).join(' ')} failed: ${said}`);
  }
}

/** A workspace of its own: a fresh repository (an existing one is left as it is). */
export async function initWorkspace(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, '.git'))) await git(['init', '--quiet', '--', dir]);
}

/** The top folder of the repository `repository` names, or a coded error saying why it is not one. */
export async function repositoryRoot(repository: string): Promise<string> {
  if (!path.isAbsolute(repository)) throw new EventError('invalid_repository', `repository must be an absolute path, not ${JSON.stringify(repository)}`);
  if (!fs.existsSync(repository) || !fs.statSync(repository).isDirectory()) throw new EventError('invalid_repository', `The repository ${repository} does not exist (or is not a folder)`);
  try {
    return await git(['-C', repository, 'rev-parse', '--show-toplevel']);
  } catch {
    throw new EventError('invalid_repository', `${repository} is not a git repository (git rev-parse found none); run git init there or name another`);
  }
}

/**
 * Git settings that would run programs named by a repository's config or hooks, switched off for every
 * git KSI runs on an agent's workspace: the agent can write there (and into the repository's .git).
 * Command-line config outranks every config file and reaches the gits git starts itself (submodules).
 */
const NO_PROGRAMS_FROM_REPOSITORY = ['-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgSign=false', '-c', 'submodule.recurse=false'];

/**
 * A worktree of `repository` at `dir` on `branch`: the branch is created from HEAD, or checked out
 * again when it exists. Returns the worktree's git folder (under the repository's .git/worktrees),
 * found there and not through the workspace's `.git` file, which the agent can rewrite.
 */
export async function addWorktree(repository: string, dir: string, branch: string): Promise<string> {
  const exists = await git(['-C', repository, 'branch', '--list', '--', branch]);
  if (exists) await git(['-C', repository, 'worktree', 'add', '--quiet', '--', dir, branch]);
  else await git(['-C', repository, 'worktree', 'add', '--quiet', '-b', branch, '--', dir]);
  const worktrees = path.join(await git(['-C', repository, 'rev-parse', '--path-format=absolute', '--git-common-dir']), 'worktrees');
  const pointer = path.join(fs.realpathSync(dir), '.git');
  const name = fs.readdirSync(worktrees).find((entry) => {
    const gitdir = path.join(worktrees, entry, 'gitdir');
    return fs.existsSync(gitdir) && fs.readFileSync(gitdir, 'utf8').trim() === pointer;
  });
  if (name === undefined) throw new EventError('git_failed', `git worktree add made ${dir}, but ${worktrees} lists no worktree there`);
  return path.join(worktrees, name);
}

/**
 * Removes the worktree at `workspace` whose git folder is `gitDir`: what the agent left uncommitted is
 * committed to its branch first, so the branch keeps all its work. Git is told both folders, so it
 * never follows the workspace's `.git` file, and runs no hook or fsmonitor the agent could have planted.
 */
export async function removeWorktree(gitDir: string, workspace: string, agentId: string): Promise<void> {
  const inWorkspace = [...NO_PROGRAMS_FROM_REPOSITORY, `--git-dir=${gitDir}`, `--work-tree=${workspace}`];
  await git([...inWorkspace, 'add', '--all']);
  if (await git([...inWorkspace, 'status', '--porcelain', '--ignore-submodules=all'])) {
    await git([...KSI_IDENTITY, ...inWorkspace, 'commit', '--quiet', '--no-verify', '-m', `KSI: work agent ${agentId} left uncommitted when it was terminated`]);
  }
  // git worktree remove would check the workspace's .git file; once the folder is gone, prune drops the worktree's records.
  fs.rmSync(workspace, { recursive: true, force: true });
  await git([...NO_PROGRAMS_FROM_REPOSITORY, `--git-dir=${gitDir}`, 'worktree', 'prune']);
}

/** Whether git takes `branch` as a branch name (git check-ref-format --branch). */
export async function isBranchName(branch: string): Promise<boolean> {
  return git(['check-ref-format', '--branch', branch]).then(
    () => true,
    (error: unknown) => {
      if (error instanceof EventError && error.code === 'git_missing') throw error;
      return false;
    },
  );
}

/** The branch an agent's worktree is on. */
export function agentBranch(agentId: string): string {
  return `ksi/${agentId}`;
}
