import { Command } from 'commander';
import { bootstrapCommand } from './commands/bootstrap';
import { doctorCommand } from './commands/doctor';
import { migrateCommand } from './commands/migrate';
import { revokeTokenCommand } from './commands/revoke-token';
import { rotateSigningKeyCommand } from './commands/rotate-signing-key';
import { serviceTokenCommand } from './commands/service-token';

/** Runs a command's action and keeps its exit code; a thrown error is reported by the caller of parseAsync. */
export type Runner = (action: () => Promise<number>) => Promise<void>;

export function createProgram(run: Runner, version: string): Command {
  const program = new Command('idgraph')
    .description("idgraph's operator commands; they read the same environment as the server (DATABASE_URL, or the embedded PostgreSQL in IDGRAPH_DATA_DIR)")
    .version(version)
    .showSuggestionAfterError()
    .exitOverride();
  migrateCommand(program, run);
  bootstrapCommand(program, run);
  serviceTokenCommand(program, run);
  revokeTokenCommand(program, run);
  rotateSigningKeyCommand(program, run);
  doctorCommand(program, run);
  for (const command of program.commands) command.exitOverride();
  return program;
}
