// Which requests keep their prompt and completion bodies, and in what form:
// `log.bodies` in switchyard.yaml, per key, route or project, with the default `none`.
// `redacted` masks secrets and personal data (src/redact) before the text reaches the
// store or a log line; `full` keeps the text as sent, except the gateway's own secrets
// (provider keys, the admin key, gateway keys), which are masked everywhere. Each body is cut at max_kb, marked as truncated. A
// stream is kept as its assembled answer, never chunk by chunk.
import type { ConfigFile } from '../config/schema.ts';
import { ConfigError } from '../config/errors.ts';
import { capBody } from '../redact/cap.ts';
import type { FoundCounts, Redactor } from '../redact/redact.ts';

type RedactModule = typeof import('../redact/redact.ts');
import type { Principal } from '../services.ts';

export type BodyPolicy = 'none' | 'redacted' | 'full';

/** The bodies of one request as the request log keeps them. */
export interface StoredBodies {
  policy: 'redacted' | 'full';
  /** The client's request body (JSON text). */
  request: string;
  /** The answer: the response body, or for a stream the assembled answer (JSON text). */
  response: string;
  truncated: boolean;
  /** What redaction masked, by kind (redacted only). */
  redactions?: FoundCounts;
}

/** An answer as respond() saw it: a whole JSON body, or a stream's text and tool calls. */
export interface CapturedAnswer {
  body?: string;
  text?: string;
  toolCalls?: Array<{ name: string; arguments: string }>;
  reasoning?: string;
}

const DEFAULT_MAX_KB = 64;

export class BodyKeeper {
  private readonly fallback: BodyPolicy;
  private readonly keys: ReadonlyMap<string, BodyPolicy>;
  private readonly projects: ReadonlyMap<string, BodyPolicy>;
  private readonly routes: ReadonlyMap<string, BodyPolicy>;
  private readonly maxBytes: number;
  private readonly mask: (text: string) => string;
  private readonly redactor: Redactor | undefined;
  private readonly redactJson: RedactModule['redactJson'] | undefined;
  /** The gateway's own secrets (provider keys, the admin key, gateway keys): masked even under `full`. */
  private readonly secrets: string[];
  /** No rule can ever store a body: policyFor answers without a lookup. */
  readonly neverKeeps: boolean;
  /** How much of a relayed stream's events to keep to assemble its answer (twice the cap: events carry framing). */
  readonly captureBytes: number;

  /**
   * The keeper for this config. The redaction engine (secretlint's rules, phone metadata:
   * about 10 MB) is loaded only when some rule says `redacted`.
   */
  static async create(file: ConfigFile, mask: (text: string) => string, secrets: string[] = []): Promise<BodyKeeper> {
    const bodies = file.log?.bodies ?? {};
    const policies = [bodies.policy, ...Object.values(bodies.keys ?? {}), ...Object.values(bodies.projects ?? {}), ...Object.values(bodies.routes ?? {})];
    const redact = policies.includes('redacted') ? await import('../redact/redact.ts') : undefined;
    return new BodyKeeper(file, mask, secrets, redact);
  }

  private constructor(file: ConfigFile, mask: (text: string) => string, secrets: string[], redact: RedactModule | undefined) {
    const bodies = file.log?.bodies ?? {};
    this.fallback = bodies.policy ?? 'none';
    this.keys = new Map(Object.entries(bodies.keys ?? {}));
    this.projects = new Map(Object.entries(bodies.projects ?? {}));
    this.routes = new Map(Object.entries(bodies.routes ?? {}));
    this.maxBytes = Math.round((bodies.max_kb ?? DEFAULT_MAX_KB) * 1024);
    this.captureBytes = 4 * this.maxBytes;
    this.mask = mask;
    for (const p of bodies.patterns ?? []) {
      try {
        new RegExp(p.pattern, 'gu');
      } catch (err) {
        throw new ConfigError(`log.bodies.patterns: '${p.name}' is not a valid regular expression (${(err as Error).message}). Fix the pattern or remove it.`);
      }
    }
    this.secrets = secrets.filter((secret) => secret.length >= 8);
    const all = [this.fallback, ...this.keys.values(), ...this.projects.values(), ...this.routes.values()];
    this.neverKeeps = all.every((p) => p === 'none');
    if (redact) {
      this.redactor = redact.createRedactor({ patterns: bodies.patterns, secrets, defaultRegion: bodies.region });
      this.redactJson = redact.redactJson;
    }
  }

  /** The most specific rule: the key (id or name), then the route, then the project, then the default. */
  policyFor(principal: Principal, route: string | undefined): BodyPolicy {
    if (this.neverKeeps) return 'none';
    return this.keys.get(principal.keyId) ?? this.keys.get(principal.name)
      ?? (route !== undefined ? this.routes.get(route) : undefined)
      ?? (principal.projectId !== undefined ? this.projects.get(principal.projectId) : undefined)
      ?? this.fallback;
  }

  /** The bodies to store under `policy` ('none' stores nothing). */
  keep(policy: Exclude<BodyPolicy, 'none'>, request: unknown, answer: CapturedAnswer | undefined): StoredBodies {
    const found: FoundCounts = {};
    const requestText = this.render(policy, request, found);
    const responseValue = answer?.body !== undefined ? parseOr(answer.body) : assembled(answer);
    const responseText = this.render(policy, responseValue, found);
    const req = capBody(requestText, this.maxBytes);
    const res = capBody(responseText, this.maxBytes);
    const stored: StoredBodies = { policy, request: req.text, response: res.text, truncated: req.truncated || res.truncated };
    if (policy === 'redacted') stored.redactions = found;
    return stored;
  }

  private maskSecrets(text: string): string {
    for (const secret of this.secrets) if (text.includes(secret)) text = text.replaceAll(secret, '[REDACTED:secret]');
    return text;
  }

  private render(policy: Exclude<BodyPolicy, 'none'>, value: unknown, found: FoundCounts): string {
    if (policy === 'full') return this.maskSecrets(this.mask(typeof value === 'string' ? value : JSON.stringify(value ?? null)));
    // create() loaded the engine: no policy says `redacted` without it.
    const redacted = this.redactJson!(value ?? null, this.redactor!);
    for (const kind in redacted.found) found[kind] = (found[kind] ?? 0) + redacted.found[kind];
    const text = typeof redacted.value === 'string' ? redacted.value : JSON.stringify(redacted.value);
    return this.mask(text);
  }
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A stream's answer as one object: its text, reasoning and tool calls. */
function assembled(answer: CapturedAnswer | undefined): unknown {
  if (!answer) return null;
  const out: Record<string, unknown> = { assembled_from_stream: true, content: answer.text ?? '' };
  if (answer.reasoning) out.reasoning = answer.reasoning;
  if (answer.toolCalls?.length) out.tool_calls = answer.toolCalls;
  return out;
}
