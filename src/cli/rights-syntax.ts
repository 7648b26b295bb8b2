import { ALL_RIGHTS, rightSet, type Right, type RightSet } from '../auth/rights';
import { CliError, EXIT } from './runtime';

/**
 * `--rights`: `all` (everything the service user's role allows), or a
 * comma-separated list of `resource.action` (`members.read,apiTokens.create`),
 * where `resource.*` stands for the resource's four actions.
 */
export function parseRights(text: string): RightSet | 'all' {
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new CliError('--rights: give `all` or a comma-separated list such as members.read,apiTokens.create', EXIT.USAGE, 'BAD_USER_INPUT');
  if (items.length === 1 && items[0] === 'all') return 'all';
  const rights: Right[] = [];
  for (const item of items) {
    const [resource, action] = item.split('.');
    const matching = action === '*' ? ALL_RIGHTS.filter((right) => right.startsWith(`${resource}.`)) : ALL_RIGHTS.filter((right) => right === item);
    if (matching.length === 0) {
      throw new CliError(`--rights: unknown right "${item}"; known rights: ${ALL_RIGHTS.join(', ')}`, EXIT.USAGE, 'BAD_USER_INPUT');
    }
    rights.push(...matching);
  }
  return rightSet(rights);
}
