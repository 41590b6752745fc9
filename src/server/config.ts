// Environment configuration, read once and validated.
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  LOYALTY_DATA_DIR: z.string().min(1).default('.data'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Loopback by default; `0.0.0.0` listens on every interface (in a container). */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Run advanceTime(now) for every merchant this often (ms); 0 = never. */
  LOYALTY_ADVANCE_INTERVAL_MS: z.coerce.number().int().min(0).default(0),
  /** Create a demo merchant with the coffee example on first start ("0" to skip). */
  LOYALTY_DEMO: z.enum(['0', '1']).default('1'),
  /** How far ahead of the server's clock a write's `at` may be (ms); sandbox merchants have no limit. */
  LOYALTY_MAX_FUTURE_SKEW_MS: z.coerce.number().int().min(0).default(5 * 60_000),
  /** Maximum request body in bytes. */
  LOYALTY_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_000_000),
  /** Comma-separated origins that browsers may call the API from (CORS); empty = none. */
  LOYALTY_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /** Serve GraphiQL on GET /graphql ("0" to turn it off). */
  LOYALTY_GRAPHIQL: z.enum(['0', '1']).default('1'),
  /** Serve the merchant console on GET /console ("0" to turn it off). */
  LOYALTY_CONSOLE: z.enum(['0', '1']).default('1'),
  /** Requests per second one API key (or one member's tokens) may sustain, per server process; 0 = no limit. */
  LOYALTY_RATE_LIMIT: z.coerce.number().min(0).default(50),
  /** Requests a credential may send at once after being idle. */
  LOYALTY_RATE_BURST: z.coerce.number().int().min(1).default(200),
  /** On SIGTERM: how long /health answers 503 before the listener closes (for load balancers to notice). */
  LOYALTY_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** On SIGTERM: how long requests in flight may take to finish before connections are cut. */
  LOYALTY_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  /** Log level of the structured (pino, JSON on stdout) log. */
  LOYALTY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve Prometheus metrics on GET /metrics ("0" to turn it off). */
  LOYALTY_METRICS: z.enum(['0', '1']).default('1'),
  /** How often the last-used times of keys are written (ms). */
  LOYALTY_KEY_USAGE_FLUSH_MS: z.coerce.number().int().positive().default(10_000),
  /** How often the webhook delivery worker looks for due deliveries (ms); 0 = no worker in this process. */
  LOYALTY_WEBHOOK_POLL_MS: z.coerce.number().int().min(0).default(1_000),
  /** One webhook request's timeout (ms). */
  LOYALTY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** The first webhook retry's delay (ms); each next one doubles, up to LOYALTY_WEBHOOK_RETRY_MAX_MS. */
  LOYALTY_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().positive().default(30_000),
  LOYALTY_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().positive().default(2 * 60 * 60_000),
  /** Connections in the pool for an external PostgreSQL. */
  LOYALTY_DB_POOL: z.coerce.number().int().positive().default(10),
});

export type Config = z.infer<typeof schema>;

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}
