// switchyard <command>: start, mock-upstream, doctor, keys, usage, reviews.
// One convention for every command: `--help`/`-h` (or `switchyard help <command>`) prints
// its usage and exits 0; an unknown option or argument prints what was wrong and the
// usage, exit 2. Nothing starts a server unasked: no command at all prints the help.

const HELP = `Switchyard — one OpenAI-compatible endpoint for every model.

Usage: switchyard <command> [options]       (npm run switchyard -- <command> [options])

Commands:
  start            Start the gateway (npm start runs it). --port N --host H --config FILE --db FILE --instances N
  mock-upstream    A local fake OpenAI/Anthropic/Gemini server to try the gateway without a key.
  doctor           Check a running gateway step by step. --url URL --key KEY --model ID
  keys             Manage virtual keys: create, list, show, revoke, rotate.
  usage            Spend and tokens by key, project, model and day.
  reviews          Human review of answers: list, show, approve, edit, reject.
  help [COMMAND]   This help, or a command's.

Run 'switchyard <command> --help' for a command's options.
`;

interface Command {
  /** The command's usage text (loaded on demand: a help should not load the gateway). */
  help(): Promise<string>;
  /** Runs the command; a number is the exit code, undefined means it keeps running (a server). */
  run(argv: string[]): Promise<number | undefined>;
}

const COMMANDS: Record<string, Command> = {
  start: {
    help: async () => (await import('./cli-commands/start.ts')).START_HELP,
    run: async (argv) => (await import('./cli-commands/start.ts')).runStart(argv),
  },
  'mock-upstream': {
    help: async () => (await import('./mock-upstream/cli.ts')).USAGE,
    run: async (argv) => {
      const { runMockUpstreamCli } = await import('./mock-upstream/index.ts');
      await runMockUpstreamCli(argv);
      return 0;
    },
  },
  doctor: {
    help: async () => (await import('./doctor.ts')).DOCTOR_HELP,
    run: async (argv) => (await import('./doctor.ts')).runDoctor(argv),
  },
  keys: {
    help: async () => (await import('./cli-commands/keys.ts')).KEYS_HELP,
    run: async (argv) => (await import('./cli-commands/index.ts')).runAdminCommand('keys', argv),
  },
  usage: {
    help: async () => (await import('./cli-commands/usage.ts')).USAGE_HELP,
    run: async (argv) => (await import('./cli-commands/index.ts')).runAdminCommand('usage', argv),
  },
  reviews: {
    help: async () => (await import('./cli-commands/reviews.ts')).REVIEWS_HELP,
    run: async (argv) => (await import('./cli-commands/index.ts')).runAdminCommand('reviews', argv),
  },
};

async function main(argv: string[]): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic === undefined) return print(process.stdout, HELP, 0);
    const command = COMMANDS[topic];
    return command ? print(process.stdout, await command.help(), 0) : unknownCommand(topic);
  }
  const command = COMMANDS[name];
  if (!command) return unknownCommand(name, rest);
  if (asksForHelp(rest)) return print(process.stdout, await command.help(), 0);
  try {
    return await command.run(rest);
  } catch (err) {
    if (!isUsageMistake(err)) throw err;
    const { parseErrorText } = await import('./cli-commands/format.ts');
    return print(process.stderr, `switchyard ${name}: ${parseErrorText(err as Error)}\n\n${await command.help()}`, 2);
  }
}

/** `--help` or `-h` anywhere before a `--`. */
function asksForHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** Bad flags: node:util's parse errors, and the option checks of the mock upstream. */
function isUsageMistake(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code.startsWith('ERR_PARSE_ARGS_') || (err instanceof Error && /^Invalid --[a-z-]+ '/.test(err.message));
}

function unknownCommand(name: string, rest: string[] = []): number {
  const hint = name.startsWith('-') ? ` To start the gateway: switchyard start ${[name, ...rest].join(' ')}` : '';
  return print(process.stderr, `switchyard: unknown command '${name}'.${hint}\n\n${HELP}`, 2);
}

function print(stream: NodeJS.WriteStream, text: string, code: number): number {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    // A command that could not start may leave handles open (a store, a worker): end here.
    if (code !== undefined) process.exit(code);
  },
  (err) => {
    process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
