// The gateway with its access stages switched off — no budget reservations, no rate
// limits, no request log — so the benchmark can show what those stages cost on top of
// parse → route → relay. Keys are still checked. Not a supported way to run Switchyard.
// Run (env as for `switchyard start`): node bench/servers/gateway-core.ts --port 0
import module from 'node:module';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/load.ts';
import { createGateway } from '../../src/gateway.ts';
import { createHttpServer, listen, drainAndClose } from '../../src/server.ts';
import { preloadTokenizer } from '../../src/tokens/count.ts';
import type { Admission, Ledger } from '../../src/services.ts';

const admitEverything: Admission = {
  async admit() {
    return { headers: {}, settle() {}, release() {} };
  },
};

const noLedger: Ledger = {
  record() {},
  async flush() {},
  async close() {},
};

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const config = loadConfig({ flags: { port: Number(values.port) } });
const gateway = await createGateway(config, { admission: admitEverything, ledger: noLedger });
preloadTokenizer();
const server = createHttpServer(gateway);
const address = await listen(server, config.host, config.port);
module.flushCompileCache?.();
process.stdout.write(`Switchyard (access stages off) listening on http://${address.address}:${address.port}/v1\n`);
process.once('SIGTERM', () => {
  drainAndClose(server, gateway, 2_000).then(() => process.exit(0), () => process.exit(1));
});
