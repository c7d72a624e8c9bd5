/**
 * Statistics for noisy machines: these VMs swing per-token times by 2x from one second to the next, so every
 * benchmark alternates its contenders and reports robust order statistics over many samples.
 */

/** The q-quantile (0..1) of `values` by nearest rank; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((sorted.length - 1) * q)))]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Median and 10th percentile, the two figures every per-token table quotes. */
export function summarize(values: readonly number[]): { median: number; p10: number; n: number } {
  return { median: median(values), p10: quantile(values, 0.1), n: values.length };
}

/** Peak resident set size of this process so far, in MB (getrusage maxrss). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
