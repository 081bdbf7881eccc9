import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Lifecycle1763970000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "daemon_runs" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "pid" integer NOT NULL, "started_at" real NOT NULL, "ended_at" real, "shutdown" text)`,
    );
    await runner.query(
      `CREATE TABLE "checkpoints" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "created_at" real NOT NULL, "reason" text NOT NULL, "data" text NOT NULL, "consumed_at" real, "restore" text)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "checkpoints"`);
    await runner.query(`DROP TABLE "daemon_runs"`);
  }
}
