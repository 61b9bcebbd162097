// switchyard usage — requests, tokens and spend by key, project, model and day.
import { type CliIo, table, UsageError } from './format.ts';
import { runCommand } from './run.ts';

export const USAGE_HELP = `Usage: switchyard usage [--from DATE] [--to DATE] [--group-by key,model,project,day] [--key ID] [--project ID] [--json]

  --from, --to   dates (2026-05-01, in the budget time zone) or times; default this month so far
  --group-by     any of key, model, project, day (default key,model)
  --url / --db / --postgres   as for 'switchyard keys'
  --json         machine-readable output
  -h, --help     print this help
`;

export function runUsageCommand(argv: string[], io: CliIo): Promise<number> {
  const options = { from: { type: 'string' }, to: { type: 'string' }, 'group-by': { type: 'string' }, key: { type: 'string' }, project: { type: 'string' } } as const;
  return runCommand(argv, io, USAGE_HELP, options, async ({ values, positionals, backend }) => {
    if (positionals.length) throw new UsageError(`Unexpected argument '${positionals[0]}'.\n\n${USAGE_HELP}`);
    const query = new URLSearchParams({ group_by: (values['group-by'] as string | undefined) ?? 'key,model' });
    if (typeof values.from === 'string') query.set('from', values.from);
    if (typeof values.to === 'string') query.set('to', values.to);
    if (typeof values.key === 'string') query.set('key_id', values.key);
    if (typeof values.project === 'string') query.set('project_id', values.project);
    const result = await (await backend()).call('GET', `/admin/usage?${query}`);
    if (values.json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    printUsage(io, result);
    return 0;
  }, false);
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
