import type { Command } from 'commander';
import type { DataSource } from 'typeorm';
import { isId } from '../../common/ids';
import { ApiTokenEntity } from '../../modules/api-tokens/api-token.entity';
import { ApiTokensService } from '../../modules/api-tokens/api-tokens.service';
import { VISIBLE_PREFIX_LENGTH } from '../../modules/api-tokens/token-format';
import { operatorAudit, operatorContext, operatorRateLimits } from '../operator';
import { CliError, configFromEnvironment, EXIT, output, printJson, withDatabase } from '../runtime';

type Options = { json?: boolean };

/** At most the visible prefix of what was typed is ever repeated back: an operator may paste a whole secret. */
const shown = (typed: string) => (typed.length > VISIBLE_PREFIX_LENGTH ? `${typed.slice(0, VISIBLE_PREFIX_LENGTH)}…` : typed);

/**
 * The token an argument names: its id, or its whole visible prefix (as
 * listings show it, `idg_1a2b3c4d`; anything longer, such as a pasted
 * secret, is cut to that length). A shorter start is refused rather than
 * matched, so that a slip of the keyboard cannot revoke some other token. A
 * prefix that several tokens share is refused with their ids.
 */
async function findToken(dataSource: DataSource, reference: string): Promise<ApiTokenEntity> {
  const tokens = dataSource.getRepository(ApiTokenEntity);
  const typed = reference.trim();
  if (isId(typed)) {
    const token = await tokens.findOneBy({ id: typed.toLowerCase() });
    if (!token) throw new CliError(`no API token has the id ${typed}`, EXIT.FAILED, 'NOT_FOUND');
    return token;
  }
  if (typed.length < VISIBLE_PREFIX_LENGTH) {
    throw new CliError(`give the token's id or its whole prefix of ${VISIBLE_PREFIX_LENGTH} characters (such as idg_1a2b3c4d), not ${shown(typed) || 'nothing'}`, EXIT.USAGE, 'BAD_USER_INPUT');
  }
  const prefix = typed.slice(0, VISIBLE_PREFIX_LENGTH);
  const matches = await tokens.find({ where: { tokenPrefix: prefix }, order: { createdAt: 'ASC' }, take: 11 });
  if (matches.length === 0) throw new CliError(`no API token has the prefix ${prefix}`, EXIT.FAILED, 'NOT_FOUND');
  if (matches.length > 1) {
    const ids = matches.slice(0, 10).map((token) => token.id);
    throw new CliError(`ambiguous: ${matches.length > 10 ? 'more than 10' : matches.length} API tokens have the prefix ${prefix}: ${ids.join(', ')}; give the id`, EXIT.FAILED, 'AMBIGUOUS');
  }
  return matches[0]!;
}

/** `idgraph revoke-token`: the service's revocation, audited as `api_token.revoked` with an OPERATOR as actor. */
export async function runRevokeToken(reference: string, options: Options): Promise<number> {
  const out = output(Boolean(options.json));
  const config = configFromEnvironment();
  const { token, alreadyRevoked } = await withDatabase(config, async (dataSource) => {
    const found = await findToken(dataSource, reference);
    if (found.revokedAt) return { token: found, alreadyRevoked: true };
    const apiTokens = new ApiTokensService(dataSource, operatorAudit(dataSource), operatorRateLimits, config.tokenPrefix);
    return { token: await apiTokens.revoke(operatorContext(dataSource), found.id), alreadyRevoked: false };
  });
  const summary = {
    id: token.id,
    tokenPrefix: token.tokenPrefix,
    organizationId: token.organizationId,
    revokedAt: token.revokedAt!.toISOString(),
    alreadyRevoked,
  };
  if (out.json) printJson(out, { apiToken: summary });
  else out.write(alreadyRevoked ? `API token ${summary.id} (${summary.tokenPrefix}…) was already revoked at ${summary.revokedAt}` : `revoked API token ${summary.id} (${summary.tokenPrefix}…)`);
  return EXIT.OK;
}

export function revokeTokenCommand(program: Command, run: (action: () => Promise<number>) => Promise<void>): void {
  program
    .command('revoke-token')
    .description('revoke an API token at once, audited as an operator action')
    .argument('<id-or-prefix>', "the token's id, or its whole visible prefix (such as idg_1a2b3c4d)")
    .option('--json', 'print {"apiToken": {id, tokenPrefix, organizationId, revokedAt, alreadyRevoked}}')
    .action((reference: string, options: Options) => run(() => runRevokeToken(reference, options)));
}
