// switchyard usage — requests, tokens and spend by key, project, model and day.
import { parseArgs } from 'node:util';
import { openBackend, type AdminBackend } from './backend.ts';
import { BACKEND_OPTIONS, type CliIo, table, UsageError } from './format.ts';
import { reportError } from './keys.ts';

export const USAGE_HELP = `Usage: switchyard usage [--from DATE] [--to DATE] [--group-by key,model,project,day] [--key ID] [--project ID] [--json]

  --from, --to   dates (2026-05-01, in the budget time zone) or times; default this month so far
  --group-by     any of key, model, project, day (default key,model)
  --url / --db / --postgres   as for 'switchyard keys'
  --json         machine-readable output
  -h, --help     print this help
`;

export async function runUsageCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(USAGE_HELP);
    return 0;
  }
  let backend: AdminBackend | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...BACKEND_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string' }, key: { type: 'string' }, project: { type: 'string' } },
    });
    if (positionals.length) throw new UsageError(`Unexpected argument '${positionals[0]}'.\n\n${USAGE_HELP}`);
    const query = new URLSearchParams({ group_by: values['group-by'] ?? 'key,model' });
    if (values.from) query.set('from', values.from);
    if (values.to) query.set('to', values.to);
    if (values.key) query.set('key_id', values.key);
    if (values.project) query.set('project_id', values.project);
    backend = await openBackend({ url: values.url, db: values.db, postgres: values.postgres, schema: values.schema, timezone: values.timezone, env: io.env });
    const result = await backend.call('GET', `/admin/usage?${query}`);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    printUsage(io, result);
    return 0;
  } catch (error) {
    return reportError(io, error, USAGE_HELP);
  } finally {
    await backend?.close();
  }
}

function printUsage(io: CliIo, result: { from: string; to: string; group_by: string[]; data: any[] }): void {
  io.stdout.write(`Usage from ${result.from} to ${result.to}\n\n`);
  if (result.data.length === 0 || (result.data.length === 1 && result.data[0].requests === 0)) {
    io.stdout.write('No requests in this period.\n');
    return;
  }
  const groups = result.group_by.map((g) => (g === 'key' ? 'KEY' : g.toUpperCase()));
  const cell = (row: any, g: string) => (g === 'key' ? `${row.key_name ?? '?'} (${row.key_id})` : String(row[g === 'project' ? 'project_id' : g] ?? '-'));
  const rows = result.data.map((row) => [
    ...result.group_by.map((g) => cell(row, g)),
    String(row.requests), String(row.input_tokens), String(row.cached_input_tokens), String(row.output_tokens), String(row.reasoning_tokens), `$${row.cost_usd.toFixed(4)}`,
  ]);
  const total = result.data.reduce((a, r) => ({
    requests: a.requests + r.requests, cost: a.cost + r.cost_usd,
  }), { requests: 0, cost: 0 });
  io.stdout.write(table([...groups, 'REQUESTS', 'INPUT', 'CACHED', 'OUTPUT', 'REASONING', 'COST_USD'], rows));
  io.stdout.write(`\nTotal: ${total.requests} requests, $${total.cost.toFixed(4)}\n`);
}
