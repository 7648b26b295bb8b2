import 'reflect-metadata';
import { CommanderError } from 'commander';
import { createProgram } from './program';
import { describeFailure, EXIT } from './runtime';

function version(): string {
  // package.json sits two folders up from src/cli, three from dist/src/cli.
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'idgraph' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

/**
 * Parses the command line and runs the command. Every failure is one line on
 * stderr (JSON with --json: {"error": {"code", "message"}}), never a stack;
 * the result is the exit code.
 */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  const json = argv.includes('--json');
  const program = createProgram(async (action) => {
    exitCode = await action();
  }, version());
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (unknown option, missing argument...) or the help.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const failure = describeFailure(error);
    process.stderr.write(json ? `${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n` : `idgraph: ${failure.message}\n`);
    return failure.exitCode;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => process.exit(code));
}
