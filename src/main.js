// The entry point of `npm start` and bin/switchyard: turns Node's compile cache on, then runs
// the CLI (src/cli.ts). With the cache warm, Node reuses the JavaScript it stripped from our
// TypeScript at an earlier start instead of loading its type stripper, a WebAssembly build of
// swc that costs about 20 MB of memory in every thread that loads a .ts file (the gateway's
// main thread and its SQLite writer), and starts faster. Plain JavaScript because it must run
// before any TypeScript does. The environment variable carries the cache to worker threads
// and to the processes of `start --instances`; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!process.env.NODE_DISABLE_COMPILE_CACHE) {
  process.env.NODE_COMPILE_CACHE ||= join(tmpdir(), 'node-compile-cache');
  module.enableCompileCache(process.env.NODE_COMPILE_CACHE);
}
await import('./cli.ts');
