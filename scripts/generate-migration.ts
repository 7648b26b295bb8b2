/** `npm run gen:migration -- AddThing`: writes migrations/<epoch>-AddThing.ts from what the entities still need. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { schemaDiffAfterMigrations } from './support/schema-diff';
import { withScratchDatabase } from './support/scratch-database';

const name = process.argv[2];
if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name)) {
  process.stderr.write('usage: npm run gen:migration -- <PascalCaseName>\n');
  process.exit(2);
}

const statement = (query: string) => `        await queryRunner.query(\`${query.replace(/[`\\]/g, '\\$&').replace(/\$\{/g, '\\${')}\`);`;

withScratchDatabase(schemaDiffAfterMigrations)
  .then(async ({ up: upQueries, down: downQueries }) => {
    let up = upQueries;
    let down = downQueries;
    if (up.length === 0) {
      process.stdout.write('no schema changes: nothing to generate\n');
      return;
    }
    // TypeORM emits CREATE TYPE once per entity column that shares an enum type; keep the first.
    up = [...new Set(up)];
    down = [...new Set(down)];
    const timestamp = Date.now();
    const className = `${name}${timestamp}`;
    const source = `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
    name = '${className}';

    public async up(queryRunner: QueryRunner): Promise<void> {
${up.map(statement).join('\n')}
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
${down.reverse().map(statement).join('\n')}
    }
}
`;
    const file = path.join(__dirname, '..', 'migrations', `${timestamp}-${name}.ts`);
    await writeFile(file, source);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  })
  .catch((error: unknown) => {
    process.stderr.write(`gen:migration failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
