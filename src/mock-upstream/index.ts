// The mock upstream's public face: start it from code, or run it as a command.
export { startMockUpstream } from './server.ts';
export type { MockOptions, MockUpstream, RecordedRequest } from './server.ts';
export { runMockUpstreamCli } from './cli.ts';
