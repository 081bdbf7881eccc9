import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where a worktree sandbox's git data is, as KSI found it when it made the worktree (never read from the workspace again). */
export class SandboxGitDir1764081000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "sandboxes" ADD COLUMN "git_dir" text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "sandboxes" DROP COLUMN "git_dir"`);
  }
}
