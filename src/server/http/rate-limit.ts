// Rate limits per credential (an API key, or one member's tokens): a token
// bucket of `burst` requests that refills at `perSecond`. Over it: HTTP 429
// RATE_LIMITED with Retry-After. The buckets live in this process: N server
// processes behind a load balancer allow N times the rate, so set the rate
// per process. (A shared bucket would cost a database write per request,
// which is what the limit protects.)
import type { Plugin } from 'graphql-yoga';
import type { Credential } from '../services/auth.ts';
import { credentialOf } from './authentication.ts';
import { errorResponse } from './respond.ts';

export interface RateLimitOptions {
  /** Requests per second a credential may sustain. */
  perSecond: number;
  /** Requests a credential may make at once after being idle. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full (idle) ones are dropped. */
const PRUNE_AT = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: RateLimitOptions) {}

  /** Takes one token for `id`: 0 when granted, else the milliseconds until one is available. */
  take(id: string, now = Date.now()): number {
    const { perSecond, burst } = this.options;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      if (this.buckets.size >= PRUNE_AT) this.prune(now);
      bucket = { tokens: burst, at: now };
      this.buckets.set(id, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000);
  }

  private prune(now: number): void {
    const { perSecond, burst } = this.options;
    for (const [id, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= burst) this.buckets.delete(id);
    }
  }
}

function bucketOf(credential: Credential): string {
  return credential.kind === 'key' ? `key:${credential.keyId}` : `member:${credential.merchant.id}:${credential.memberId}`;
}

/** Must come after authentication() in the plugin list: it limits authenticated requests. */
export function rateLimit(options: RateLimitOptions): Plugin {
  const buckets = new TokenBuckets(options);
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const credential = credentialOf(request);
      if (!credential) return;
      const waitMs = buckets.take(bucketOf(credential));
      if (waitMs === 0) return;
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      endResponse(
        errorResponse(fetchAPI, 429, 'RATE_LIMITED', `too many requests for this credential; retry in ${retryAfter} s`, {
          headers: { 'retry-after': String(retryAfter) },
          details: { retryAfter, perSecond: options.perSecond, burst: options.burst },
        }),
      );
    },
  };
}
