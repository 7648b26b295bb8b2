import type { Command } from 'commander';
import { rotateSigningKey } from '../../modules/personal-access-tokens/signing-keys';
import { CliError, configFromEnvironment, EXIT, output, printJson, withDatabase } from '../runtime';

type Options = { json?: boolean };

/**
 * `idgraph rotate-signing-key`: a new key signs from each server's next key
 * reload (SIGNING_KEY_RELOAD_SECONDS); the previous ones keep verifying, and
 * those that nothing valid was signed with any more are removed.
 */
export async function runRotateSigningKey(options: Options): Promise<number> {
  const out = output(Boolean(options.json));
  const config = configFromEnvironment();
  if (config.jwt.privateKeys) {
    throw new CliError(
      'refused: the signing keys come from JWT_PRIVATE_KEYS; rotate by changing that setting: put the new key first, keep the old ones after it until the tokens they signed have expired, and restart the servers',
      EXIT.FAILED,
      'CONFIGURED_KEYS',
    );
  }
  const rotation = await withDatabase(config, (dataSource) =>
    rotateSigningKey(dataSource, {
      reloadSeconds: config.jwt.keyReloadSeconds,
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
      leewaySeconds: config.jwt.leewaySeconds,
    }),
  );
  if (out.json) {
    printJson(out, { kid: rotation.kid, retired: rotation.retired, removed: rotation.removed, reloadSeconds: config.jwt.keyReloadSeconds });
  } else {
    out.write(
      [
        `new signing key ${rotation.kid}: running servers sign with it within ${config.jwt.keyReloadSeconds} s (SIGNING_KEY_RELOAD_SECONDS)`,
        rotation.retired.length > 0 ? `retired (still verifying): ${rotation.retired.join(', ')}` : 'no previous key',
        rotation.removed.length > 0 ? `removed (nothing they signed is valid any more): ${rotation.removed.join(', ')}` : 'no key removed',
      ].join('\n'),
    );
  }
  return EXIT.OK;
}

export function rotateSigningKeyCommand(program: Command, run: (action: () => Promise<number>) => Promise<void>): void {
  program
    .command('rotate-signing-key')
    .description('make a new JWT signing key (keys kept in the database); old keys keep verifying until their tokens expire')
    .option('--json', 'print {"kid", "retired": [...], "removed": [...], "reloadSeconds"}')
    .action((options: Options) => run(() => runRotateSigningKey(options)));
}
