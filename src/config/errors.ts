// The one error a bad configuration raises, and the one shape its message takes:
// `file:line: field: what is wrong and the fix`, a line per problem.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** How many problems one message lists; the rest show up once these are fixed. */
const LISTED = 5;

/** A ConfigError listing problems already written as `file:line: field: message`. */
export function invalidConfig(problems: string[]): ConfigError {
  return new ConfigError(`Invalid config:\n  ${problems.slice(0, LISTED).join('\n  ')}\nSee "Configuration reference" in the README for every field.`);
}
