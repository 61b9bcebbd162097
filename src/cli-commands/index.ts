// The admin commands of the CLI: `switchyard keys ...`, `switchyard usage ...` and `switchyard reviews ...`.
import type { CliIo } from './format.ts';
import { runKeysCommand } from './keys.ts';
import { runReviewsCommand } from './reviews.ts';
import { runUsageCommand } from './usage.ts';

export { runKeysCommand } from './keys.ts';
export { runReviewsCommand } from './reviews.ts';
export { runUsageCommand } from './usage.ts';
export type { CliIo } from './format.ts';

const RUNNERS = { keys: runKeysCommand, usage: runUsageCommand, reviews: runReviewsCommand };

/** Runs `keys`, `usage` or `reviews` with the rest of argv; resolves to the exit code. */
export function runAdminCommand(command: keyof typeof RUNNERS, argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  return RUNNERS[command](argv, io);
}
