/** `npm run gen:schema` writes schema.graphql; with `--check` it fails if the file is stale instead. */
import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createSchema, printSchemaFile } from '../src/schema';

const FILE = path.join(__dirname, '..', 'schema.graphql');

async function run(): Promise<void> {
  const printed = printSchemaFile((await createSchema()).sdl);
  if (process.argv.includes('--check')) {
    const current = await readFile(FILE, 'utf8').catch(() => '');
    if (current !== printed) {
      process.stderr.write('schema.graphql is stale: run `npm run gen:schema` and commit it\n');
      process.exit(1);
    }
    process.stdout.write('schema.graphql is current\n');
    return;
  }
  await writeFile(FILE, printed);
  process.stdout.write('wrote schema.graphql\n');
}

run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
