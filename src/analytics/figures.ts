// Turning sums into the figures an operator reads, the way PostgreSQL's numeric would:
// exact ratios of decimals rounded half away from zero, never Infinity or NaN.

/** round(numerator / denominator, places) for decimals with at most 3 places each. */
export function roundedRatio(numerator: number, denominator: number, places: number): number | null {
  const n = Math.round(numerator * 1000);
  const d = Math.round(denominator * 1000);
  if (d === 0) return null;
  const scaled = (Math.abs(n) * 10 ** places) / Math.abs(d);
  const sign = Math.sign(n) * Math.sign(d);
  return (sign * Math.round(scaled)) / 10 ** places || 0;
}

export const efficiency = (dc: number, ac: number) => roundedRatio(dc, ac, 4);

/** Average of a sum of 2-decimal values over a count, to 2 decimals. */
export const average = (sum: number | null, count: number) =>
  sum === null || count === 0 ? null : roundedRatio(sum, count, 2);

/** A sum of 3-decimal values, free of binary floating-point noise. */
export const kwh = (value: number) => Math.round(value * 1000) / 1000;
