import 'reflect-metadata';
import { describePermission, PERMISSIONS } from '../src/auth/permission';
import { createSchema, undeclaredOperations } from '../src/schema';

/**
 * Deny by default: every operation declares what it needs. This snapshot is
 * the list a reviewer reads; a change to any line is a security review.
 */
describe('permissions', () => {
  it('every Query and Mutation field declares a permission (federation adds _entities and _service, guarded by the reference resolvers)', async () => {
    const { schema } = await createSchema();
    expect(undeclaredOperations(schema)).toEqual(['Query._entities', 'Query._service']);
    const rootFields = [schema.getQueryType()!, schema.getMutationType()!].flatMap((type) => Object.keys(type.getFields()));
    expect(rootFields.length).toBeGreaterThan(10);
  });

  it('matches the reviewed list', () => {
    const table = [...PERMISSIONS.entries()]
      .map(([operation, spec]) => `${operation}: ${describePermission(spec)}`)
      .sort();
    expect(table).toMatchSnapshot();
  });

  it('marks exactly the intended operations public', () => {
    const publicOperations = [...PERMISSIONS.entries()].filter(([, spec]) => spec.kind === 'public').map(([operation]) => operation);
    expect(publicOperations.sort()).toEqual([
      'ApiTokensResolver.revokeLeakedToken',
      'PersonalAccessTokensResolver.refreshAccessToken',
      'PersonalAccessTokensResolver.verifyAccessToken',
      'UsersResolver.logIn',
      'UsersResolver.logOut',
      'UsersResolver.signUp',
    ]);
  });
});
