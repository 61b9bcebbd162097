// A gateway process for the multi-process tests, run as a child: it opens the access
// services on the store and counters named in its environment and does one job.
//   SY_MODE=load   burst of budget requests, an rpm burst, and held concurrency slots;
//                  prints one JSON line, then waits for "release" on stdin
//   SY_MODE=crash  admits SY_CRASH_OPEN requests, settles SY_CRASH_SETTLED of them,
//                  prints "ready" and kills itself with SIGKILL
// Keys come in the environment (never argv), and only their ids are printed.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAccessServices, type AccessConfig } from '../admin/access.ts';
import { model } from '../store/testing.ts';
import { estimateFor, simulateCall, sum } from './testing.ts';

const env = process.env;
const config: AccessConfig = env.SY_SQLITE
  ? { store: 'sqlite', sqlitePath: env.SY_SQLITE, log: () => {} }
  : { store: 'postgres', postgresUrl: env.SY_POSTGRES_URL, postgresSchema: env.SY_SCHEMA, redisUrl: env.SY_REDIS_URL, redisPrefix: env.SY_PREFIX, log: () => {} };
const services = await createAccessServices(config);
const mini = model('gpt-5.4-mini');

if (env.SY_MODE === 'crash') {
  const principal = await services.authenticator.authenticate(env.SY_BUDGET_KEY);
  const estimate = estimateFor(mini, 1000, 2000);
  const held = [];
  for (let i = 0; i < Number(env.SY_CRASH_OPEN); i++) held.push(await services.admission.admit(principal, mini, estimate, { requestId: `req_crash_${i}`, endpoint: 'chat' }));
  for (let i = 0; i < Number(env.SY_CRASH_SETTLED); i++) {
    held[i].settle({ inputTokens: 1000, cachedInputTokens: 0, outputTokens: 1000, reasoningTokens: 0 }, 0.00525);
  }
  await services.admission.drain();
  await services.store.flush();
  process.stdout.write('ready\n');
  process.kill(process.pid, 'SIGKILL');
}

const budgetKey = await services.authenticator.authenticate(env.SY_BUDGET_KEY);
const rpmKey = await services.authenticator.authenticate(env.SY_RPM_KEY);
const slotKey = await services.authenticator.authenticate(env.SY_SLOT_KEY);
const estimate = estimateFor(mini, 1000, 2000);

// Wait for the parent's go, so the processes run their bursts at the same time.
const lines = createInterface({ input: process.stdin });
const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
process.stdout.write('started\n');
await next();

const budget = await Promise.all(Array.from({ length: Number(env.SY_BURST ?? 200) }, async () => {
  await sleep(Math.random() * 30);
  return simulateCall(services, budgetKey, mini, estimate, 10);
}));
const rpm = await Promise.allSettled(Array.from({ length: 40 }, () => services.admission.admit(rpmKey, mini, estimateFor(mini, 10, 10))));
for (const r of rpm) if (r.status === 'fulfilled') r.value.settle({ inputTokens: 10, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, 0);
const slots = await Promise.allSettled(Array.from({ length: 4 }, () => services.admission.admit(slotKey, mini, estimateFor(mini, 10, 10))));

process.stdout.write(`${JSON.stringify({
  admitted: budget.filter((r) => r.admitted).length,
  settledUsd: sum(budget.map((r) => r.costUsd)),
  refusals: budget.filter((r) => !r.admitted).map((r) => r.error?.code),
  refusalMessages: [...new Set(budget.filter((r) => !r.admitted).map((r) => r.error?.message.replace(/\$[\d.]+/g, '$X')))],
  rpmAdmitted: rpm.filter((r) => r.status === 'fulfilled').length,
  slotsHeld: slots.filter((r) => r.status === 'fulfilled').length,
})}\n`);

await next();
for (const s of slots) if (s.status === 'fulfilled') s.value.release();
await services.close();
lines.close();
