// The admin commands of the CLI: `switchyard keys ...` and `switchyard usage ...`.
import type { CliIo } from './format.ts';
import { runKeysCommand } from './keys.ts';
import { runUsageCommand } from './usage.ts';

export { runKeysCommand } from './keys.ts';
export { runUsageCommand } from './usage.ts';
export type { CliIo } from './format.ts';

/** Runs `keys` or `usage` with the rest of argv; resolves to the exit code. */
export function runAdminCommand(command: 'keys' | 'usage', argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  return command === 'keys' ? runKeysCommand(argv, io) : runUsageCommand(argv, io);
}
