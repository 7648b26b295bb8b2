/**
 * Runs every migration on an empty database, then fails if TypeORM would
 * still generate one: the entities and migrations/ must describe the same schema.
 */
import { schemaDiffAfterMigrations } from './support/schema-diff';
import { withScratchDatabase } from './support/scratch-database';

withScratchDatabase(schemaDiffAfterMigrations)
  .then(({ up }) => {
    if (up.length > 0) {
      process.stderr.write(`Entities and migrations differ; run \`npm run gen:migration -- <Name>\`. Missing:\n${up.join(';\n')};\n`);
      process.exit(1);
    }
    process.stdout.write('migrations: all applied on an empty database, and no schema difference remains\n');
  })
  .catch((error: unknown) => {
    process.stderr.write(`check:migrations failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
