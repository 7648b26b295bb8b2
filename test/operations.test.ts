import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, Kind, parse, validate, visit, type OperationDefinitionNode } from 'graphql';

const ROOT = path.join(__dirname, '..');
// schema.graphql is the subgraph SDL; the federation @link line is not plain GraphQL for buildSchema.
const schemaSdl = readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8').replace(/^extend schema @link\(.*\)$/m, '').replace(/ @key\(fields: "id"\)/g, '');
const document = parse(readFileSync(path.join(ROOT, 'docs', 'operations.graphql'), 'utf8'));
const schema = buildSchema(schemaSdl);

describe('docs/operations.graphql', () => {
  it('is valid against schema.graphql', () => {
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
  });

  it('has a sample for every operation of the API', () => {
    const used = new Set<string>();
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const root = (definition as OperationDefinitionNode).operation === 'query' ? 'Query' : 'Mutation';
      for (const selection of (definition as OperationDefinitionNode).selectionSet.selections) {
        if (selection.kind === Kind.FIELD) used.add(`${root}.${selection.name.value}`);
      }
    }
    const all = [schema.getQueryType()!, schema.getMutationType()!].flatMap((type) =>
      Object.keys(type.getFields()).filter((field) => !field.startsWith('_')).map((field) => `${type.name}.${field}`),
    );
    expect(all.filter((operation) => !used.has(operation))).toEqual([]);
    let fields = 0;
    visit(document, { Field: () => void (fields += 1) });
    expect(fields).toBeGreaterThan(100);
  });
});
