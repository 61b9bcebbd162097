// The log sink the access services write to. Lines carry ids and prefixes, never a
// secret; errors are reduced to their message (driver errors can carry whole rows).
export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export const stderrLogger: Logger = (level, message, fields) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
};

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
