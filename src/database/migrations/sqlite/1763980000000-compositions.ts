import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Compositions1763980000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "composition_index" ("type" text NOT NULL, "name" text NOT NULL, "version" text NOT NULL, "description" text NOT NULL, "author" text, "extends" text, "role" text, "tags" text NOT NULL, "capabilities" text NOT NULL, "source" text NOT NULL, "file_path" text, "indexed_at" real NOT NULL, PRIMARY KEY ("type", "name"))`,
    );
    await runner.query(`CREATE TABLE "dynamic_compositions" ("name" text PRIMARY KEY NOT NULL, "body" text NOT NULL, "created_at" real NOT NULL)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "dynamic_compositions"`);
    await runner.query(`DROP TABLE "composition_index"`);
  }
}
