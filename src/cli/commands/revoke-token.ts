import type { Command } from 'commander';
import type { DataSource } from 'typeorm';
import { isId } from '../../common/ids';
import { ApiTokenEntity } from '../../modules/api-tokens/api-token.entity';
import { ApiTokensService } from '../../modules/api-tokens/api-tokens.service';
import { VISIBLE_PREFIX_LENGTH } from '../../modules/api-tokens/token-format';
import { TokenUsageRecorder } from '../../modules/api-tokens/token-usage';
import { createLogger } from '../../logger';
import { operatorAudit, operatorContext, operatorRateLimits } from '../operator';
import { CliError, configFromEnvironment, EXIT, output, printJson, withDatabase } from '../runtime';

type Options = { json?: boolean };

/** At most the visible prefix of what was typed is ever repeated back: an operator may paste a whole secret. */
const shown = (typed: string) => (typed.length > VISIBLE_PREFIX_LENGTH ? `${typed.slice(0, VISIBLE_PREFIX_LENGTH)}…` : typed);

/**
 * The token an argument names: its id, or the beginning of its visible
 * prefix (as listings show it, `idg_1a2b3c4d`). A prefix that several tokens
 * share is refused with their ids, so that the operator can pick one.
 */
async function findToken(dataSource: DataSource, reference: string): Promise<ApiTokenEntity> {
  const tokens = dataSource.getRepository(ApiTokenEntity);
  if (isId(reference)) {
    const token = await tokens.findOneBy({ id: reference.toLowerCase() });
    if (!token) throw new CliError(`no API token has the id ${reference}`, EXIT.FAILED, 'NOT_FOUND');
    return token;
  }
  const prefix = reference.trim().slice(0, VISIBLE_PREFIX_LENGTH);
  if (prefix.length === 0) throw new CliError('give a token id or token prefix', EXIT.USAGE, 'BAD_USER_INPUT');
  const matches = await tokens
    .createQueryBuilder('t')
    .where(`t."tokenPrefix" LIKE :pattern ESCAPE '\\'`, { pattern: `${prefix.replace(/[\\%_]/g, '\\$&')}%` })
    .orderBy('t.createdAt', 'ASC')
    .limit(11)
    .getMany();
  if (matches.length === 0) throw new CliError(`no API token has a prefix starting with ${shown(reference)}`, EXIT.FAILED, 'NOT_FOUND');
  if (matches.length > 1) {
    const ids = matches.slice(0, 10).map((token) => `${token.id} (${token.tokenPrefix})`);
    throw new CliError(`ambiguous: ${matches.length > 10 ? 'more than 10' : matches.length} API tokens match ${shown(reference)}: ${ids.join(', ')}; give the id`, EXIT.FAILED, 'AMBIGUOUS');
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
    const usage = new TokenUsageRecorder(dataSource, 3600, createLogger('silent'));
    const apiTokens = new ApiTokensService(dataSource, operatorAudit(dataSource), operatorRateLimits, usage, config.tokenPrefix);
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
    .argument('<id-or-prefix>', "the token's id, or its visible prefix (such as idg_1a2b3c4d) or the start of it")
    .option('--json', 'print {"apiToken": {id, tokenPrefix, organizationId, revokedAt, alreadyRevoked}}')
    .action((reference: string, options: Options) => run(() => runRevokeToken(reference, options)));
}
