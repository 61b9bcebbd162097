// switchyard keys create|list|show|revoke|rotate — the admin API's key calls from a
// terminal. Human-readable by default, --json for scripts. The secret is printed once,
// by create and rotate, and nowhere else.
import { CliError, type AdminBackend } from './backend.ts';
import { runCommand, type Values } from './run.ts';
import { type CliIo, parseBudget, parseExpiry, parseModelBudget, positiveInt, splitList, table, UsageError } from './format.ts';

export const KEYS_HELP = `Usage: switchyard keys <command> [options]

Commands:
  create --name NAME      create a key; prints its secret once
  list                    all keys (no secrets)
  show ID|--name NAME     one key, with each budget's spend and reset time
  revoke ID|--name NAME   the key stops working (within a second on running gateways)
  rotate ID|--name NAME   a new secret for the key; the old one stops working
  (ID is the first column of 'keys list'; --name picks the one key of that name)

Options for create:
  --env live|test              default live (test keys may be confined to cheap models)
  --project ID|NAME            --owner NAME
  --models 'gpt-5.4-*,...'     allowed models (ids or globs); default all
  --routes 'auto:cheap,...'    allowed routes
  --budget 10/month            key budget: USD/day|week|month|total, ':soft' to alert only (repeatable)
  --model-budget gpt-5.5=20/day  budget for one model within the key (repeatable)
  --max-output N               largest max_tokens; --default-output N; --on-exceed clamp|refuse
  --rpm N  --tpm N  --concurrent N
  --expires 2026-12-31|30d     expiry (a date, a time, or days/hours from now)
  --metadata key=value         (repeatable)
  --role admin|reviewer|viewer the key may also call the admin API: viewer reads usage,
                               requests and reviews; reviewer also decides reviews; admin all

Where (all commands):
  --url URL        a running gateway's admin API (admin key from SWITCHYARD_MASTER_KEY)
  --db PATH        the SQLite store directly (default SWITCHYARD_DB or ./switchyard.db)
  --postgres URL   the PostgreSQL store directly (--schema NAME)
  --json           machine-readable output
  -h, --help       print this help
`;

export function runKeysCommand(argv: string[], io: CliIo): Promise<number> {
  const command = argv[0];
  const options = {
    name: { type: 'string' }, env: { type: 'string' }, project: { type: 'string' }, owner: { type: 'string' },
    models: { type: 'string', multiple: true }, routes: { type: 'string', multiple: true },
    budget: { type: 'string', multiple: true }, 'model-budget': { type: 'string', multiple: true },
    'max-output': { type: 'string' }, 'default-output': { type: 'string' }, 'on-exceed': { type: 'string' },
    rpm: { type: 'string' }, tpm: { type: 'string' }, concurrent: { type: 'string' },
    expires: { type: 'string' }, metadata: { type: 'string', multiple: true }, role: { type: 'string' },
  } as const;
  return runCommand(argv, io, KEYS_HELP, options, async ({ values, positionals, backend: open }) => {
    const body = command === 'create' ? createBody(values) : undefined;
    const byId = ['show', 'revoke', 'rotate'].includes(command);
    if (byId && !positionals[0] && typeof values.name !== 'string') throw new UsageError(`switchyard keys ${command} needs the key's id or --name NAME (see 'switchyard keys list').`);
    if (!['create', 'list', 'show', 'revoke', 'rotate'].includes(command)) throw new UsageError(`Unknown keys command '${command}'.\n\n${KEYS_HELP}`);
    const backend = await open();
    const id = byId ? positionals[0] ?? await idByName(backend, values.name as string, command) : '';
    const json = values.json === true;
    switch (command) {
      case 'create': return printCreated(io, await backend.call('POST', '/admin/keys', body), json, 'Created');
      case 'list': return printList(io, (await backend.call('GET', '/admin/keys')).data, json);
      case 'show': return printKey(io, await backend.call('GET', `/admin/keys/${encodeURIComponent(id)}`), json);
      case 'revoke': {
        const key = await backend.call('POST', `/admin/keys/${encodeURIComponent(id)}/revoke`);
        if (json) io.stdout.write(`${JSON.stringify(key, null, 2)}\n`);
        else io.stdout.write(`Revoked key ${key.id} (${key.name}, ${key.prefix}…). Requests with it are refused from now on.\n`);
        return 0;
      }
      default: return printCreated(io, await backend.call('POST', `/admin/keys/${encodeURIComponent(id)}/rotate`), json, 'Rotated');
    }
  });
}


/** The id of the one key called `name` (for revoke and rotate: the one not revoked yet). */
async function idByName(backend: AdminBackend, name: string, command: string): Promise<string> {
  const keys: Array<{ id: string; name: string; status: string }> = (await backend.call('GET', '/admin/keys')).data;
  const named = keys.filter((k) => k.name === name && (command === 'show' || k.status !== 'revoked'));
  if (named.length === 1) return named[0].id;
  if (named.length === 0) throw new CliError(`No ${command === 'show' ? '' : 'usable '}key is named '${name}'. 'switchyard keys list' shows every key with its id and name.`);
  throw new CliError(`${named.length} keys are named '${name}' (${named.map((k) => k.id).join(', ')}): give the id instead, e.g. switchyard keys ${command} ${named[0].id}.`);
}

function createBody(values: Values): Record<string, unknown> {
  if (typeof values.name !== 'string') throw new UsageError('switchyard keys create needs --name (e.g. --name ci).');
  const body: Record<string, unknown> = { name: values.name };
  if (values.env !== undefined) body.env = values.env;
  if (values.project !== undefined) body.project = values.project;
  if (values.owner !== undefined) body.owner = values.owner;
  if (values.models) body.allowed_models = splitList(values.models as string[]);
  if (values.routes) body.allowed_routes = splitList(values.routes as string[]);
  const budgets = [
    ...((values.budget as string[] | undefined) ?? []).map((b) => parseBudget(b, '--budget')),
    ...((values['model-budget'] as string[] | undefined) ?? []).map((b) => parseModelBudget(b)),
  ];
  if (budgets.length) body.budgets = budgets;
  const caps: Record<string, unknown> = {};
  if (values['max-output'] !== undefined) caps.max = positiveInt(values['max-output'] as string, '--max-output');
  if (values['default-output'] !== undefined) caps.default = positiveInt(values['default-output'] as string, '--default-output');
  if (values['on-exceed'] !== undefined) caps.on_exceed = values['on-exceed'];
  if (Object.keys(caps).length) body.max_output_tokens = caps;
  const limits: Record<string, number> = {};
  for (const name of ['rpm', 'tpm', 'concurrent'] as const) if (values[name] !== undefined) limits[name] = positiveInt(values[name] as string, `--${name}`);
  if (Object.keys(limits).length) body.rate_limits = limits;
  if (values.expires !== undefined) body.expires_at = parseExpiry(values.expires as string);
  if (values.role !== undefined) {
    if (!['admin', 'reviewer', 'viewer'].includes(values.role as string)) throw new UsageError(`--role '${values.role}' is not a role: use viewer, reviewer or admin.`);
    body.role = values.role;
  }
  if (values.metadata) {
    const metadata: Record<string, string> = {};
    for (const pair of values.metadata as string[]) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--metadata '${pair}' is not key=value.`);
      metadata[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    body.metadata = metadata;
  }
  return body;
}

function printCreated(io: CliIo, key: any, json: boolean, verb: string): number {
  for (const warning of key.warnings ?? []) io.stderr.write(`switchyard: warning: ${warning}\n`);
  if (json) {
    io.stdout.write(`${JSON.stringify(key, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(`${verb} key ${key.id} (${key.name}, ${key.env}${key.role ? `, ${key.role} role` : ''}).\n\n  ${key.key}\n\nThis secret is shown once and stored only as a hash: copy it now.\n`);
  if (verb === 'Rotated') io.stdout.write('The previous secret no longer works.\n');
  return 0;
}

function budgetSummary(budgets: any[]): string {
  return budgets.map((b) => `${b.model ? `${b.model} ` : ''}$${b.spent_usd}/$${b.limit_usd} ${b.period}${b.hard ? '' : ' (soft)'}`).join('; ') || '-';
}

function printList(io: CliIo, keys: any[], json: boolean): number {
  if (json) {
    io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return 0;
  }
  if (keys.length === 0) {
    io.stdout.write("No keys yet. Create one with 'switchyard keys create --name NAME'.\n");
    return 0;
  }
  io.stdout.write(table(['ID', 'NAME', 'ENV', 'PREFIX', 'STATUS', 'BUDGETS (spent/limit)', 'EXPIRES', 'ROLE'],
    keys.map((k) => [k.id, k.name, k.env, `${k.prefix}…`, k.status, budgetSummary(k.budgets), k.expires_at ?? '-', k.role ?? '-'])));
  return 0;
}

function printKey(io: CliIo, key: any, json: boolean): number {
  if (json) {
    io.stdout.write(`${JSON.stringify(key, null, 2)}\n`);
    return 0;
  }
  const limits = key.rate_limits ? Object.entries(key.rate_limits).filter(([k]) => k !== 'models').map(([k, v]) => `${k} ${v}`).join(', ') : '-';
  const lines = [
    ['id', key.id], ['name', key.name], ['env', key.env], ['prefix', `${key.prefix}…`], ['status', key.status],
    ['project', key.project ?? '-'], ['owner', key.owner ?? '-'], ['allowed models', key.allowed_models?.join(', ') ?? 'all'],
    ['output cap', key.max_output_tokens ? JSON.stringify(key.max_output_tokens) : '-'], ['rate limits', limits],
    ['expires', key.expires_at ?? 'never'], ['admin role', key.role ?? '-'], ['created', key.created_at],
  ];
  io.stdout.write(lines.map(([k, v]) => `${k.padEnd(15)}${v}`).join('\n') + '\n');
  if (key.budgets.length) {
    io.stdout.write('\n' + table(['BUDGET', 'PERIOD', 'SPENT', 'RESERVED', 'LIMIT', 'HARD', 'RESETS AT'],
      key.budgets.map((b: any) => [b.model ?? 'all models', b.period, `$${b.spent_usd}`, `$${b.reserved_usd}`, `$${b.limit_usd}`, b.hard ? 'yes' : 'no', b.resets_at ?? 'never'])));
  }
  return 0;
}
