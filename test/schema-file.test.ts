import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createSchema, printSchemaFile } from '../src/schema';

describe('schema.graphql', () => {
  it('is the schema printed from the code (run `npm run gen:schema` when this fails)', async () => {
    const checkedIn = readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8');
    expect(checkedIn).toBe(printSchemaFile((await createSchema()).sdl));
  });
});
