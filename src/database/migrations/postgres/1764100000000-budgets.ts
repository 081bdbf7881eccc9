import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Spending limits per agent, per profile and for every completion (see Budget). */
export class Budgets1764100000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "budgets" ("scope" text NOT NULL, "scope_id" text NOT NULL, "limit_usd" double precision NOT NULL, "period" text NOT NULL, "updated_at" double precision NOT NULL, CONSTRAINT "PK_4daafbc76144e9ed423cc684e3c" PRIMARY KEY ("scope", "scope_id"))`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE "budgets"');
  }
}
