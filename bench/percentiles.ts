// Latency percentiles and medians. The built-in generators keep every sample (a run of
// 15 s holds at most a few hundred thousand), so exact percentiles from a sorted array
// are cheap and need no histogram library.

/** Nearest-rank percentile (p in 0..100) of samples; NaN when there are none. */
export function computePercentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function sortSamples(samples: number[]): Float64Array {
  return Float64Array.from(samples).sort();
}

/** Median of the runs' figures: the middle one, or the mean of the two middle ones. */
export function computeMedian(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] as number;
  return ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
