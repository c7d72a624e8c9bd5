import type { RetrySpec } from './workflow-spec';

/**
 * The wait before retry number `retry` (1 for the first retry): `initialMs` (fixed) or `initialMs * 2^(retry-1)`
 * (exponential), capped at `maxMs`, then reduced by up to `jitter` of itself using `random` (0..1).
 */
export function retryDelay(policy: RetrySpec, retry: number, random: () => number = Math.random): number {
  const base = policy.backoff === 'fixed' ? policy.initialMs : policy.initialMs * 2 ** (retry - 1);
  const capped = Math.min(base, policy.maxMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}
