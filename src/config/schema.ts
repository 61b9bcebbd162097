// The shape of switchyard.yaml. Every field is documented in the README's config
// reference; a file that does not match stops the start with the line and the fix.
import { z } from 'zod';
import { STRATEGIES, unknownStrategy } from './routing-defaults.ts';

const providerKind = z.enum(['openai', 'anthropic', 'gemini', 'ollama']);
const effort = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);
const positiveInt = z.number().int().positive();
const url = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL');

const rateLimitsSchema = z.strictObject({ rpm: positiveInt.optional(), tpm: positiveInt.optional(), concurrent: positiveInt.optional() });

export const providerSchema = z.strictObject({
  /** Wire format: openai (any OpenAI-compatible server), anthropic, gemini, ollama. */
  kind: providerKind.optional(),
  base_url: url.optional(),
  api_key: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout_ms: positiveInt.optional(),
  /** Ask the server for its models at start (Ollama, vLLM, llama.cpp). */
  discover: z.boolean().optional(),
  /** Client request headers passed on to this provider (names; `x-trace-*` globs). */
  forward_headers: z.array(z.string().regex(/^[A-Za-z0-9-]+\*?$/, 'must be a header name, optionally ending in *')).optional(),
});

const pricingSchema = z.strictObject({
  input: z.number().nonnegative(),
  cached_input: z.number().nonnegative().optional(),
  output: z.number().nonnegative(),
  cache_write: z.number().nonnegative().optional(),
});

export const modelSchema = z.strictObject({
  /** Name of an entry under `providers:`. */
  provider: z.string().optional(),
  upstream_id: z.string().optional(),
  context_window: positiveInt.optional(),
  max_output_tokens: positiveInt.optional(),
  pricing: pricingSchema.optional(),
  tier: z.enum(['nano', 'mini', 'default', 'frontier', 'pro']).optional(),
  reasoning_levels: z.array(effort).optional(),
  vision: z.boolean().optional(),
  tools: z.boolean().optional(),
  endpoints: z.array(z.enum(['chat', 'responses', 'embeddings', 'messages'])).optional(),
});

export const deploymentSchema = z.strictObject({
  provider: z.string(),
  upstream_id: z.string().optional(),
  weight: z.number().positive().optional(),
});

const strategy = z.enum(STRATEGIES, { error: (issue) => unknownStrategy(issue.input) });
const wholeNumber = (what: string) => z.number({ error: `must be a number of ${what}` }).int(`must be a whole number of ${what}`);
const millis = wholeNumber('milliseconds').nonnegative('must be 0 or more milliseconds');
const positiveMillis = wholeNumber('milliseconds').positive('must be more than 0 milliseconds');

/** Retries of a failed model call (429, 5xx, timeout, connection error). */
const retrySchema = z.strictObject({
  /** Retries after the first call (0: never retry); up to 1 + attempts calls per model. */
  attempts: wholeNumber('retries').nonnegative('must be 0 (never retry) or more'),
  /** First backoff; doubles each retry, with jitter, up to max_ms. */
  base_ms: millis,
  max_ms: millis,
  /** The longest Retry-After / retry-after-ms the gateway waits for; a longer one moves on at once. */
  max_retry_after_ms: millis,
  /** One attempt's limit (default: the upstream timeout). */
  attempt_timeout_ms: positiveMillis,
  /** The whole request's limit, every attempt and wait included (default: the upstream timeout). */
  deadline_ms: positiveMillis,
  /** Retry on the deployment that failed (true) or move to the model's next one (false). */
  same_deployment: z.boolean(),
}).partial();

/** A circuit breaker per deployment: open after `failures` in a row or `error_rate` over `window_ms`. */
const breakerSchema = z.strictObject({
  failures: wholeNumber('failures').positive('must be 1 or more failures in a row'),
  error_rate: z.number().gt(0, 'must be a fraction above 0 and at most 1 (0.5: half the calls failed)').max(1, 'must be a fraction above 0 and at most 1 (0.5: half the calls failed)'),
  window_ms: positiveMillis,
  /** Calls in the window before error_rate counts, so one early failure does not open it. */
  min_requests: wholeNumber('requests').positive('must be 1 or more requests'),
  /** How long an open breaker skips its deployment before one probe is let through. */
  cooldown_ms: positiveMillis,
}).partial();

export const routingSchema = z.strictObject({
  /** The default balancing strategy among a model's deployments. */
  strategy: strategy.optional(),
  retry: retrySchema.optional(),
  breaker: breakerSchema.optional(),
});

const tierName = z.enum(['nano', 'mini', 'default', 'frontier', 'pro']);
const bodyPolicy = z.enum(['none', 'redacted', 'full'], { error: 'must be none, redacted or full' });
const unitInterval = z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1');
const CHECKS = ['schema', 'final_answer', 'refusal', 'learned', 'consistency', 'verifier'] as const;

/** A cascade: the cheapest tier answers first; a failed check escalates to the next. */
const cascadeSchema = z.strictObject({
  /** The checks run on each answer but the last tier's (default: schema, final_answer, refusal, learned). */
  checks: z.array(z.enum(CHECKS, { error: `must be one of ${CHECKS.join(', ')}` })).min(1).optional(),
  /** The learned check escalates above this score (0..1) ... */
  learned_threshold: unitInterval.optional(),
  /** ... or the share of answers it escalates (on its training data), the default way (0.35). */
  learned_share: unitInterval.optional(),
  /** The tier asked "is this answer correct?" by the verifier check (default nano). */
  verifier: tierName.optional(),
  /** Streams: buffer each tier's answer until it passes (default), or stream the first tier with no check. */
  stream: z.enum(['buffer', 'first_tier']).optional(),
});

/** A named route (`auto:<name>`): which tiers it chooses among, and how. */
export const routeSchema = z.strictObject({
  /** The tiers, cheapest first; the classifier picks one (or a cascade climbs them). */
  tiers: z.array(tierName).min(1, 'list at least one tier'),
  /** The share of requests sent above the first tier (one per step up: [0.4, 0.1] for three tiers) ... */
  strong_share: z.union([unitInterval, z.array(unitInterval).min(1)]).optional(),
  /** ... or the classifier score (0..1) from which a request goes to the next tier up. */
  threshold: z.union([unitInterval, z.array(unitInterval).min(1)]).optional(),
  /** true (every default), or the cascade's settings; one schema, so a wrong field is named as such. */
  cascade: z.preprocess((v) => (v === true ? {} : v === false ? undefined : v), cascadeSchema.optional()),
  /** The final answer is validated by the pro tier; a disagreement tags the request for review. */
  critical: z.boolean().optional(),
  /** Where the key's budget refuses the chosen tier, use the next cheaper one instead of refusing. */
  downgrade: z.boolean().optional(),
  description: z.string().optional(),
});

const duration = z.string().regex(/^\d+(\.\d+)?(s|m|h|d)$/, 'must be a duration such as 90s, 30m, 4h or 7d');
const onTimeout = z.enum(['release', 'reject', 'pro'], { error: 'must be release, reject or pro' });

/** A review rule: every condition given must hold (a list: any of its entries); the answer-side ones (tags, content, tool_calls) are read on the answer. */
export const reviewRuleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_-]+$/, 'a lowercase name, e.g. refunds'),
  mode: z.enum(['hold', 'after'], { error: 'must be hold or after' }),
  /** Key ids or names. */
  keys: z.array(z.string()).min(1).optional(),
  projects: z.array(z.string()).min(1).optional(),
  /** Auto routes (`auto:critical`). */
  routes: z.array(z.string()).min(1).optional(),
  tiers: z.array(z.enum(['nano', 'mini', 'default', 'frontier', 'pro'])).min(1).optional(),
  /** Model ids, globs, `tier:` or `provider:` selectors. */
  models: z.array(z.string()).min(1).optional(),
  /** Request metadata entries that must all be equal. */
  metadata: z.record(z.string(), z.string()).optional(),
  /** The router's tags: `validation` (the Pro validator disagreed or could not validate). */
  tags: z.array(z.enum(['validation'], { error: 'the only tag is validation' })).min(1).optional(),
  /** A regular expression searched in the answer's text and tool-call arguments. */
  content: z.string().optional(),
  /** Names of functions whose call in the answer needs review. */
  tool_calls: z.array(z.string()).min(1).optional(),
  timeout: duration.optional(),
  on_timeout: onTimeout.optional(),
  /** Called with the decision, signed with HMAC-SHA256 of webhook_secret. */
  webhook: url.optional(),
  webhook_secret: z.string().min(16, 'use at least 16 characters').optional(),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().optional(),
      port: z.number().int().min(0).max(65535).optional(),
      max_body_mb: z.number().positive().optional(),
      upstream_timeout_ms: positiveInt.optional(),
      headers_timeout_ms: positiveInt.optional(),
      request_timeout_ms: positiveInt.optional(),
      max_json_depth: positiveInt.optional(),
    })
    .optional(),
  auth: z
    .strictObject({
      keys: z.array(z.string().min(8, 'a gateway key must be at least 8 characters')).optional(),
      master_key: z.string().min(8, 'the master key must be at least 8 characters').optional(),
    })
    .optional(),
  providers: z.record(z.string(), providerSchema).optional(),
  models: z.record(z.string(), modelSchema).optional(),
  aliases: z.record(z.string(), z.string()).optional(),
  deployments: z.record(z.string(), z.array(deploymentSchema).min(1)).optional(),
  routing: routingSchema.optional(),
  /** Per model: the strategy among its deployments, overriding routing.strategy. */
  strategies: z.record(z.string(), strategy).optional(),
  /** Per model: the models tried, in order, when all of its deployments fail. */
  fallbacks: z.record(z.string(), z.array(z.string()).min(1, 'list at least one model, or remove the entry')).optional(),
  /** Per model: the larger-window model a prompt too long for it goes to. */
  context_fallbacks: z.record(z.string(), z.string()).optional(),
  /** Tier → models, best first (the first that can take a request is used). */
  tiers: z.partialRecord(tierName, z.array(z.string()).min(1, 'list at least one model, or remove the tier')).optional(),
  /** Named routes for `model: "auto:<name>"`; the built-in auto, auto:cheap, auto:balanced, auto:quality, auto:cascade may be redefined. */
  routes: z.record(z.string(), routeSchema).optional(),
  store: z.strictObject({
    path: z.string().optional(),
    postgres_url: z.string().optional(),
    postgres_schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lowercase SQL identifier').optional(),
    redis_url: z.string().optional(),
    redis_prefix: z.string().optional(),
    /** While Redis is unreachable: refuse with a 503 (fail_closed) or admit uncounted, logged and counted (fail_open). */
    redis_outage: z.strictObject({
      /** Default fail_closed: a hard budget is never bypassed by an outage. */
      budgets: z.enum(['fail_closed', 'fail_open'], { error: 'must be fail_closed or fail_open' }).optional(),
      /** Default fail_open: requests go on, uncounted, while Redis is away. */
      rate_limits: z.enum(['fail_closed', 'fail_open'], { error: 'must be fail_closed or fail_open' }).optional(),
    }).optional(),
  }).optional(),
  budgets: z.strictObject({ timezone: z.string().optional(), alert_webhook: url.optional() }).optional(),
  keys: z.strictObject({
    /** Models test keys (sy_test_…) are confined to: ids, globs, `tier:mini`, `provider:ollama`. */
    test_key_models: z.array(z.string()).optional(),
  }).optional(),
  /** Gateway-wide rate limits per model id or glob. */
  limits: z.record(z.string(), rateLimitsSchema).optional(),
  /** Gateway-wide output caps per model id or glob. */
  output_caps: z.record(z.string(), z.strictObject({ default: positiveInt.optional(), max: positiveInt.optional() })).optional(),
  metrics: z.strictObject({
    /** host:port of a listener serving only GET /metrics, without a key (on the gateway port it takes the admin key). */
    listen: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464').optional(),
  }).optional(),
  /** An exact-match response cache, opt-in per key or route (src/cache). */
  cache: z.strictObject({
    /** How long an answer is served from the cache (default 10m). */
    ttl: duration.optional(),
    /** The in-memory cache's size bound (default 64 MB); with Redis (store.redis_url) entries live there, each with its TTL. */
    max_mb: z.number().positive().optional(),
    /** Answers larger than this are not cached (default 512 KB). */
    max_entry_kb: z.number().positive().optional(),
    /** Keys (id or name) whose requests are cached, each key apart. */
    keys: z.array(z.string()).min(1).optional(),
    /** Routes (`auto:faq`) or model ids whose requests are cached, each key apart. */
    routes: z.array(z.string()).min(1).optional(),
    /** Routes or model ids whose cached answers every key may get (they are shared on purpose). */
    shared_routes: z.array(z.string()).min(1).optional(),
  }).optional(),
  /** Human review of answers (SPEC §5). */
  review: z.strictObject({
    /** Defaults for rules (and the built-in metadata.review rule): 24h, reject. */
    timeout: duration.optional(),
    on_timeout: onTimeout.optional(),
    /** A held stream gets an SSE comment this often while it waits (default 15). */
    keepalive_seconds: positiveInt.optional(),
    webhook: url.optional(),
    webhook_secret: z.string().min(16, 'use at least 16 characters').optional(),
    rules: z.array(reviewRuleSchema).optional(),
  }).optional(),
  log: z.strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional(),
    /** Days the request log is kept; older rows are pruned in small batches. */
    retention_days: z.number().positive().optional(),
    /** Whether prompt and completion bodies are stored with the request log, and how. */
    bodies: z.strictObject({
      /** none (default): never stored; redacted: secrets and personal data masked first; full: as sent. */
      policy: bodyPolicy.optional(),
      /** Per key (id or name), project (id) or route: the policy for its requests (key wins, then route, then project). */
      keys: z.record(z.string(), bodyPolicy).optional(),
      projects: z.record(z.string(), bodyPolicy).optional(),
      routes: z.record(z.string(), bodyPolicy).optional(),
      /** Each stored body is cut at this size (default 64 KB), marked as truncated. */
      max_kb: z.number().positive().optional(),
      /** Region for phone numbers written without a country code (ISO 3166 alpha-2, e.g. FR). */
      region: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter region code such as FR or US').optional(),
      /** More things to mask: a name and a regular expression. */
      patterns: z.array(z.strictObject({ name: z.string().regex(/^[a-z0-9_-]+$/, 'a lowercase name, e.g. order_id'), pattern: z.string() })).optional(),
    }).optional(),
  }).optional(),
});

export type ConfigFile = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type RoutingFile = z.infer<typeof routingSchema>;
export type RouteFile = z.infer<typeof routeSchema>;
export type ReviewRuleFile = z.infer<typeof reviewRuleSchema>;
export type ReviewFile = NonNullable<ConfigFile['review']>;
