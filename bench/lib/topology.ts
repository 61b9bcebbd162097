// One suite's set of servers: a fake upstream, the bare proxy in front of it, and one
// gateway process per scenario — and the targets a load is aimed at (the upstream
// itself, called directly, is the first).
import { join, resolve } from 'node:path';
import { startServer, ROOT } from './processes.ts';
import type { ServerProcess } from './processes.ts';
import { scenarios, baseGatewayEnv, BENCH_KEY, DEFAULT_COMMAND } from '../scenarios.ts';
import type { GatewayScenario } from '../scenarios.ts';

export type TargetKind = 'direct' | 'proxy' | 'gateway';

export interface Target {
  id: string;
  name: string;
  kind: TargetKind;
  origin: string;
  /** Bearer key to send. */
  key: string;
  /** The process in the middle (none for direct). */
  process?: ServerProcess;
  /** The model its load asks for, when not the suite's default. */
  model?: string;
}

export interface Topology {
  upstream: ServerProcess;
  targets: Target[];
  /** The gateway and proxy targets (the ones with a process of their own). */
  middles(): Target[];
  stop(): Promise<void>;
}

export interface UpstreamSpec {
  /** The bundled mock (src/mock-upstream) or the chunk-stamping stream server. */
  kind: 'mock' | 'stamp';
  flags: string[];
}

export interface TopologyOptions {
  /** Extra node flags for the gateway processes (profiling). */
  gatewayNodeFlags?: string[];
  /** Only these scenario ids (default all). */
  only?: string[];
  /** The gateway scenarios (default: bench/scenarios.ts). */
  scenarios?: GatewayScenario[];
  /** The suite this topology is for: scenarios limited to other suites are left out. */
  suite?: string;
}

const LISTENING = /(http:\/\/127\.0\.0\.1:\d+)/;

export async function startTopology(spec: UpstreamSpec, options: TopologyOptions = {}): Promise<Topology> {
  const started: ServerProcess[] = [];
  try {
    const upstream = await startServer({
      name: spec.kind === 'mock' ? 'mock upstream' : 'stamp upstream',
      args: spec.kind === 'mock' ? [join(ROOT, 'src/cli.ts'), 'mock-upstream', '--port', '0', '--quiet', ...spec.flags] : [join(ROOT, 'bench/servers/stamp-upstream.ts'), '--port', '0', ...spec.flags],
      ready: LISTENING,
    });
    started.push(upstream);
    const ctx = { upstream: upstream.origin };
    const proxy = await startServer({ name: 'bare proxy', args: [join(ROOT, 'bench/proxy.ts'), '--port', '0', '--upstream', upstream.origin], ready: LISTENING });
    started.push(proxy);
    const targets: Target[] = [
      { id: 'direct', name: 'upstream direct', kind: 'direct', origin: upstream.origin, key: BENCH_KEY },
      { id: 'proxy', name: 'bare proxy (floor)', kind: 'proxy', origin: proxy.origin, key: BENCH_KEY, process: proxy },
    ];
    for (const scenario of options.scenarios ?? scenarios) {
      if (options.only && !options.only.includes(scenario.id) && !options.only.includes(scenario.id.replace(/@base$/, ''))) continue;
      if (scenario.suites && options.suite && !scenario.suites.includes(options.suite)) continue;
      const gateway = await startServer({
        name: scenario.name,
        args: [...commandOf(scenario), '--port', '0'],
        env: { ...baseGatewayEnv(ctx), ...scenario.env?.(ctx) },
        files: scenario.files?.(ctx),
        ready: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
        nodeFlags: options.gatewayNodeFlags,
      });
      started.push(gateway);
      const key = (await scenario.setup?.(gateway)) || BENCH_KEY;
      targets.push({ id: scenario.id, name: scenario.name, kind: 'gateway', origin: gateway.origin, key, process: gateway, model: scenario.model });
    }
    return {
      upstream,
      targets,
      middles: () => targets.filter((t) => t.process),
      stop: () => stopAll(started),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

function commandOf(scenario: GatewayScenario): string[] {
  const [script, ...args] = scenario.command ?? DEFAULT_COMMAND;
  return [resolve(ROOT, script), ...args];
}

async function stopAll(processes: ServerProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}
