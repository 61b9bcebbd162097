// The frame every admin command of the CLI runs in (`keys`, `reviews`, `usage`): help,
// argument parsing with the backend options, the backend opened only once the arguments
// are good, errors printed with the exit code they mean, and the backend closed.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { openBackend, CliError, type AdminBackend } from './backend.ts';
import { BACKEND_OPTIONS, type CliIo, parseErrorText, UsageError } from './format.ts';

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandRun {
  values: Values;
  positionals: string[];
  /** The admin API or the store the backend options name (opened once, closed after). */
  backend(): Promise<AdminBackend>;
}

/** Runs `body` with the parsed arguments; resolves to the exit code. `subcommand`: the first argument is the command (keys list …). */
export async function runCommand(argv: string[], io: CliIo, help: string, options: NonNullable<ParseArgsConfig['options']>, body: (run: CommandRun) => Promise<number>, subcommand = true): Promise<number> {
  const first = argv[0];
  if (subcommand ? !first || first === '--help' || first === '-h' || first === 'help' : argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(help);
    return 0;
  }
  let opened: AdminBackend | undefined;
  try {
    const { values, positionals } = parseArgs({ args: subcommand ? argv.slice(1) : argv, allowPositionals: true, options: { ...BACKEND_OPTIONS, ...options, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      io.stdout.write(help);
      return 0;
    }
    const backend = async () => {
      opened ??= await openBackend({ url: values.url as string | undefined, db: values.db as string | undefined, postgres: values.postgres as string | undefined, schema: values.schema as string | undefined, timezone: values.timezone as string | undefined, env: io.env });
      return opened;
    };
    return await body({ values, positionals, backend });
  } catch (error) {
    return reportError(io, error, help);
  } finally {
    await opened?.close();
  }
}

/** Prints a failure: command-line mistakes (exit 2; an unknown option with the usage), others exit 1. */
export function reportError(io: CliIo, error: unknown, usage: string): number {
  if (error instanceof UsageError) {
    io.stderr.write(`switchyard: ${error.message}\n`);
    return 2;
  }
  if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
    io.stderr.write(`switchyard: ${parseErrorText(error as Error)}\n\n${usage}`);
    return 2;
  }
  if (error instanceof CliError) {
    io.stderr.write(`switchyard: ${error.message}\n`);
    return 1;
  }
  io.stderr.write(`switchyard: ${(error as Error).message ?? String(error)}\n`);
  return 1;
}
