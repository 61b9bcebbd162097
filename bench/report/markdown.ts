// The results as markdown tables (bench/results/latest.md, also printed).
import type { BenchResults } from './results.ts';

const f = (n: number | undefined, digits = 2) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
const mb = (bytes: number | undefined) => (bytes === undefined ? '–' : (bytes / 1024 / 1024).toFixed(0));
const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–');

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(results: BenchResults): string {
  const name = (id: string) => results.targets.find((t) => t.id === id)?.name ?? id;
  const { meta } = results;
  const out: string[] = [
    '# Switchyard benchmark',
    '',
    `${meta.date} · Node ${meta.node} · ${meta.cpus} × ${meta.cpuModel} · ${meta.platform}${meta.quick ? ' · quick run' : ''} · ${meta.seconds.toFixed(0)} s.`,
    'Every server is its own process on loopback; the load generator (autocannon) and the fake upstream share the same cores, so absolute numbers are the machine\'s — the ratios, measured in the same run with the targets taking turns, are the point.',
    '',
  ];
  if (results.latency) {
    const direct = (c: number) => results.latency!.find((p) => p.target === 'direct' && p.concurrency === c);
    out.push('## Non-stream chat: latency and throughput', '');
    out.push(
      table(
        ['concurrency', 'target', 'req/s', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'CPU ms/req'],
        results.latency.map((p) => {
          const d = direct(p.concurrency);
          const added = p.target === 'direct' || !d ? ['–', '–'] : [f(p.p50Ms - d.p50Ms), f(p.p99Ms - d.p99Ms)];
          return [String(p.concurrency), name(p.target), f(p.rps, 0), f(p.p50Ms), f(p.p99Ms), ...added, f(p.cpuMsPerRequest, 3)];
        }),
      ),
      '',
      '"added" is over calling the upstream directly at the same concurrency; CPU ms/req is the middle process\'s own CPU time per response.',
      '',
    );
  }
  const split = results.latency?.filter((p) => p.cpuMsPerRequestByThread && p.concurrency === 16);
  if (split?.length) {
    const us = (ms: number | undefined) => f(ms === undefined ? undefined : ms * 1000, 0);
    out.push('## Where the CPU of a request goes (c=16, µs per response)', '');
    out.push(
      table(
        ['target', 'event loop', 'worker threads (SQLite writer)', 'V8 helpers (GC)', 'other', 'all'],
        split.map((p) => {
          const t = p.cpuMsPerRequestByThread!;
          return [name(p.target), us(t.main), us(t.workers), us(t.v8), us(t.other), us(p.cpuMsPerRequest)];
        }),
      ),
      '',
      'The event loop is what caps throughput: a gateway serves at most one request per event-loop cost, whatever its other threads do.',
      '',
    );
  }
  if (results.ratios?.length) {
    out.push('## Gateway ÷ bare proxy (same run)', '');
    out.push(
      table(
        ['gateway', 'concurrency', 'added p50', 'added p99', 'p50', 'throughput', 'CPU/req'],
        results.ratios.map((r) => [name(r.target), String(r.concurrency), x(r.addedP50VsProxy), x(r.addedP99VsProxy), x(r.p50VsProxy), x(r.throughputVsProxy), x(r.cpuPerRequestVsProxy)]),
      ),
      '',
    );
  }
  if (results.streamThroughput && results.streamRatios) {
    out.push('## Streamed chat: throughput (whole streams)', '');
    out.push(
      table(
        ['concurrency', 'target', 'streams/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'throughput ÷ proxy', 'added p50 ÷ proxy'],
        results.streamThroughput.map((p) => {
          const r = results.streamRatios!.find((q) => q.target === p.target && q.concurrency === p.concurrency);
          return [String(p.concurrency), name(p.target), f(p.rps, 0), f(p.p50Ms), f(p.p99Ms), f(p.cpuMsPerRequest, 3), r ? x(r.throughputVsProxy) : '–', r ? x(r.addedP50VsProxy) : '–'];
        }),
      ),
      '',
      'The same closed-loop load with `stream: true`: a response counts once its stream has ended (the fake upstream sends its chunks without pause).',
      '',
    );
  }
  if (results.streaming) {
    const d = results.streaming.find((p) => p.target === 'direct');
    out.push('## Streaming: time to first chunk and chunk relay', '');
    out.push(
      table(
        ['target', 'first chunk p50 ms', 'p99 ms', 'added p50 ms', 'chunk relay p50 ms', 'p99 ms', 'added relay p50 ms'],
        results.streaming.map((p) => [
          name(p.target),
          f(p.firstChunkP50Ms),
          f(p.firstChunkP99Ms),
          p.target === 'direct' || !d ? '–' : f(p.firstChunkP50Ms - d.firstChunkP50Ms),
          f(p.relayP50Ms, 3),
          f(p.relayP99Ms, 3),
          p.target === 'direct' || !d ? '–' : f(p.relayP50Ms - d.relayP50Ms, 3),
        ]),
      ),
      '',
      'Chunk relay: the upstream stamps each chunk with the time it wrote it; the client subtracts on arrival (one monotonic clock for all processes).',
      '',
    );
  }
  if (results.streamMemory) {
    out.push(`## Memory with ${results.streamMemory.streams} concurrent open streams`, '');
    out.push(
      table(
        ['target', 'idle RSS MB', 'RSS with streams open MB', 'own memory MB (idle → open)', 'streams open', 'per stream KB'],
        results.streamMemory.results.map((m) => [name(m.target), mb(m.idleRssBytes), mb(m.openRssBytes), `${mb(m.idlePrivateBytes)} → ${mb(m.openPrivateBytes)}`, `${m.opened}/${m.streams}`, f(m.perStreamBytes / 1024, 1)]),
      ),
      '',
      '"own memory" leaves out pages shared with other processes (mostly the node binary, about 55-60 MB of every RSS here). Per stream = (RSS open − RSS idle) / streams open.',
      '',
    );
  }
  if (results.largeBodies) {
    const { points, oversize } = results.largeBodies;
    const direct = (size: number) => points.find((p) => p.target === 'direct' && p.sizeMb === size);
    out.push('## Large request bodies', '');
    out.push(
      table(
        ['body', 'target', 'p50 ms', 'added p50 ms', 'RSS before MB', 'peak RSS MB'],
        points.map((p) => {
          const d = direct(p.sizeMb);
          return [`${p.sizeMb} MB`, name(p.target), f(p.p50Ms, 1), p.target === 'direct' || !d ? '–' : f(p.p50Ms - d.p50Ms, 1), mb(p.rssBeforeBytes), mb(p.peakRssBytes)];
        }),
      ),
      '',
    );
    if (oversize.length) {
      out.push(
        table(
          ['over the limit', 'target', 'status', 'answered in ms', 'RSS before MB', 'peak RSS MB'],
          oversize.map((o) => [`${o.sizeMb} MB ${o.declared ? 'content-length' : 'chunked'}`, name(o.target), String(o.status), f(o.ms, 1), mb(o.rssBeforeBytes), mb(o.peakRssBytes)]),
        ),
        '',
      );
    }
  }
  if (results.crash) {
    out.push('## Crash: kill -9 under load, restarted on the same store', '');
    out.push(
      table(
        ['store', 'counters', 'cycles', 'served', 'rows', 'missing', 'duplicate', 'interrupted', 'missing at ready (worst)', 'spend = Σ rows'],
        results.crash.map((c) =>
          c.skipped
            ? [c.store, '–', 'skipped', '–', '–', '–', '–', '–', '–', '–']
            : [c.store, c.counters ?? '–', String(c.cycles), String(c.served), String(c.rows), String(c.missing), String(c.duplicate), String(c.interrupted), String(c.missingAtReady), c.spendMatches ? `yes ($${f(c.spentUsd, 4)})` : `**no** ($${c.spentUsd} vs $${c.rowsUsd})`],
        ),
      ),
      '',
      ...results.crash.filter((c) => c.skipped).map((c) => `${c.store} skipped: ${c.skipped}`),
      'Served: distinct request ids the fake upstream saw (x-client-request-id); rows: attempt-0 rows in the request log after a clean stop and restart. Interrupted: rows the restarted gateway wrote for requests the killed one left open. Missing at ready: served without a row, counted the moment a restart first answered /readyz.',
      '',
    );
  }
  if (results.requestLog) {
    out.push(`## Request log: the dashboard's queries on ${results.requestLog.rows} rows`, '');
    out.push(table(['store', 'query', 'p50 ms', 'rows returned'], results.requestLog.queries.map((q) => [q.store, q.query, f(q.p50Ms), String(q.rows)])), '');
  }
  const costs = featureCosts(results);
  if (costs.length > 0) {
    out.push('## What each feature costs (same run)', '');
    out.push(table(['feature', 'compared with', 'measured'], costs), '');
  }
  if (results.checks?.length) {
    out.push('## Targets', '');
    out.push(table(['check', 'target', 'measured', ''], results.checks.map((c) => [c.what, c.target, c.value, c.ok ? 'met' : '**missed**'])), '');
  }
  return out.join('\n');
}

/** Each optional feature against the same gateway without it, measured in this run. */
function featureCosts(results: BenchResults): string[][] {
  const rows: string[][] = [];
  const at = (target: string, c: number) => results.latency?.find((p) => p.target === target && p.concurrency === c);
  for (const [target, what] of [['gateway-auto', 'model "auto" (the router)'], ['gateway-traced', 'OpenTelemetry tracing on'], ['gateway-bodies', 'redacted bodies stored']] as const) {
    for (const c of [1, 16, 64]) {
      const on = at(target, c);
      const off = at('gateway', c);
      if (!on || !off) continue;
      rows.push([`${what}, c=${c}`, 'gateway (npm start)', `p50 ${f(on.p50Ms - off.p50Ms, 3)} ms added, throughput ${x(on.rps / off.rps)}, CPU/req ${x((on.cpuMsPerRequest ?? NaN) / (off.cpuMsPerRequest ?? NaN))}`]);
    }
  }
  if (results.router) rows.push([`router decision, ${results.router.promptTokens}-token prompt`, '–', `p50 ${f(results.router.p50Ms, 3)} ms, p99 ${f(results.router.p99Ms, 3)} ms`]);
  if (results.redaction) rows.push([`redaction of a ${(results.redaction.bytes / 1024).toFixed(1)} KB prompt`, '–', `p50 ${f(results.redaction.p50Ms, 3)} ms, p99 ${f(results.redaction.p99Ms, 3)} ms`]);
  return rows;
}
