// switchyard reviews list|show|approve|edit|reject — the review desk from a terminal,
// through a running gateway's admin API (--url; a reviewer's own key in
// SWITCHYARD_ADMIN_KEY) or the store directly. Human-readable by default, --json for scripts.
import { type CliIo, positiveInt, table, UsageError } from './format.ts';
import { runCommand, type Values } from './run.ts';

export const REVIEWS_HELP = `Usage: switchyard reviews <command> [options]

Commands:
  list [--status S] [--limit N]    reviews, newest first (default every status, 50)
                                   S: pending, approved, edited, rejected, expired
                                   --key ID: one client key's; --cursor C: the next page
  show ID                          the request, the model's answer and any decision
  approve ID [--reason R]          release the answer as it is
  edit ID --text T [--reason R]    release T instead of the answer
  reject ID --reason R             refuse the answer; the client's error says R

Where (all commands):
  --url URL        a running gateway's admin API; the key is SWITCHYARD_ADMIN_KEY (a
                   virtual key with the reviewer role may decide, a viewer may list and
                   show) or else SWITCHYARD_MASTER_KEY
  --db PATH        the SQLite store directly (default SWITCHYARD_DB or ./switchyard.db);
                   decisions are signed 'cli (direct store)', and the gateway holding the
                   request sees them within seconds
  --postgres URL   the PostgreSQL store directly (--schema NAME)
  --json           machine-readable output
  -h, --help       print this help
`;

const COMMANDS = ['list', 'show', 'approve', 'edit', 'reject'];
const VERBS: Record<string, string> = {
  approve: 'Approved', edit: 'Edited', reject: 'Rejected',
};
const OUTCOMES: Record<string, string> = {
  approve: 'the client gets the answer as it was',
  edit: 'the client gets your text instead of the answer',
  reject: 'the client gets an error with your reason',
};

export function runReviewsCommand(argv: string[], io: CliIo): Promise<number> {
  const command = argv[0];
  const options = {
    status: { type: 'string' }, limit: { type: 'string' }, key: { type: 'string' }, cursor: { type: 'string' },
    reason: { type: 'string' }, text: { type: 'string' },
  } as const;
  return runCommand(argv, io, REVIEWS_HELP, options, async ({ values, positionals, backend: open }) => {
    if (!COMMANDS.includes(command)) throw new UsageError(`Unknown reviews command '${command}'.\n\n${REVIEWS_HELP}`);
    const id = positionals[0];
    if (command === 'list' ? positionals.length > 0 : positionals.length > 1) throw new UsageError(`Unexpected argument '${positionals[command === 'list' ? 0 : 1]}'.`);
    if (command !== 'list' && !id) throw new UsageError(`switchyard reviews ${command} needs the review's id (the first column of 'switchyard reviews list').`);
    const body = command === 'list' || command === 'show' ? undefined : decisionBody(command, values);
    const path = command === 'list' ? `/admin/reviews?${listQuery(values)}` : `/admin/reviews/${encodeURIComponent(id!)}`;
    const backend = await open();
    const json = values.json === true;
    if (command === 'list') return printList(io, await backend.call('GET', path), json);
    if (command === 'show') return printReview(io, await backend.call('GET', path), json);
    const review = await backend.call('POST', `${path}/${command}`, body);
    if (json) io.stdout.write(`${JSON.stringify(review, null, 2)}\n`);
    else io.stdout.write(`${VERBS[command]} review ${review.id}: ${OUTCOMES[command]}. Decided by ${review.decision?.decided_by ?? '?'}.\n`);
    return 0;
  });
}


function listQuery(values: Values): URLSearchParams {
  const query = new URLSearchParams();
  if (typeof values.status === 'string') query.set('status', values.status);
  query.set('limit', String(values.limit === undefined ? 50 : positiveInt(values.limit as string, '--limit')));
  if (typeof values.key === 'string') query.set('key_id', values.key);
  if (typeof values.cursor === 'string') query.set('cursor', values.cursor);
  return query;
}

function decisionBody(command: string, values: Values): Record<string, string> {
  const body: Record<string, string> = {};
  if (typeof values.reason === 'string') body.reason = values.reason;
  if (command === 'edit') {
    if (typeof values.text !== 'string' || values.text.trim() === '') throw new UsageError('switchyard reviews edit needs --text: the answer the client gets instead.');
    body.text = values.text;
  } else if (values.text !== undefined) {
    throw new UsageError(`--text is for 'switchyard reviews edit'; ${command} takes only --reason.`);
  }
  if (command === 'reject' && !body.reason?.trim()) throw new UsageError("switchyard reviews reject needs --reason: the client's error carries it.");
  return body;
}

/** One line of text, at most `max` characters, for a table cell. */
function snippet(text: string, max = 48): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line || '-';
}

function printList(io: CliIo, page: { data: any[]; next_cursor: string | null }, json: boolean): number {
  if (json) {
    io.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    return 0;
  }
  if (page.data.length === 0) {
    io.stdout.write('No reviews.\n');
    return 0;
  }
  io.stdout.write(table(['ID', 'STATUS', 'MODE', 'RULE', 'KEY', 'MODEL', 'CREATED', 'EXPIRES / DECIDED', 'ANSWER'],
    page.data.map((r) => [
      r.id, r.status, r.mode, r.rule, r.key_id, r.model, r.created_at,
      r.decision ? `${r.decision.decided_at ?? '-'} by ${r.decision.decided_by ?? '?'}` : r.expires_at, snippet(r.answer_text),
    ])));
  if (page.next_cursor) io.stdout.write(`\nMore: switchyard reviews list --cursor ${page.next_cursor} (with the same options)\n`);
  return 0;
}

function printReview(io: CliIo, review: any, json: boolean): number {
  if (json) {
    io.stdout.write(`${JSON.stringify(review, null, 2)}\n`);
    return 0;
  }
  const lines = [
    ['id', review.id], ['status', review.status], ['mode', review.mode], ['rule', review.rule], ['reason', review.reason],
    ['request id', review.request_id], ['key', review.key_id], ['project', review.project_id ?? '-'], ['endpoint', review.endpoint],
    ['model', review.model], ['stream', review.stream ? 'yes' : 'no'], ['cost', `$${review.cost_usd}`], ['created', review.created_at],
    ['expires', review.expires_at], ['on timeout', review.on_timeout],
  ];
  let out = lines.map(([k, v]) => `${String(k).padEnd(12)}${v}`).join('\n') + '\n';
  out += `\nRequest:\n${indent(typeof review.request === 'string' ? review.request : JSON.stringify(review.request, null, 2))}\n`;
  out += `\nAnswer:\n${indent(review.answer_text || '(no text)')}\n`;
  for (const call of review.tool_calls ?? []) out += `  tool call ${call.name}(${call.arguments})\n`;
  const decision = review.decision;
  if (decision) {
    out += `\nDecision: ${decision.status} by ${decision.decided_by ?? '?'} at ${decision.decided_at ?? '?'}${decision.reason ? ` — ${decision.reason}` : ''}\n`;
    if (decision.status === 'edited' || (decision.after_text !== null && decision.after_text !== decision.before_text)) out += `Released instead:\n${indent(decision.after_text ?? '')}\n`;
  } else {
    out += `\nPending: switchyard reviews approve|edit|reject ${review.id}\n`;
  }
  io.stdout.write(out);
  return 0;
}

function indent(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n');
}
