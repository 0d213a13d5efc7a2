/**
 * A least-squares line through points, with the standard error of its slope: what a soak run
 * needs to tell growth from noise.
 */

/** The fitted line `y = intercept + slope * x` and how well the points determine it. */
export interface LineFit {
  slope: number;
  intercept: number;
  /** Standard error of the slope (NaN with fewer than three points or no spread in x). */
  slopeStdError: number;
  /** Standard deviation of the points around the line (n - 2 degrees of freedom). */
  residualStdDev: number;
  points: number;
}

/**
 * Fits a least-squares line through `(xs[i], ys[i])`.
 *
 * @example
 * ```ts
 * fitLine([0, 1, 2], [1, 3, 5]).slope; // 2
 * ```
 */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit {
  if (xs.length !== ys.length) throw new RangeError(`fitLine: ${xs.length} xs but ${ys.length} ys`);
  const n = xs.length;
  if (n === 0)
    return {
      slope: Number.NaN,
      intercept: Number.NaN,
      slopeStdError: Number.NaN,
      residualStdDev: Number.NaN,
      points: 0,
    };
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - meanX) ** 2;
    sxy += (xs[i]! - meanX) * (ys[i]! - meanY);
  }
  const slope = sxx === 0 ? Number.NaN : sxy / sxx;
  const intercept = meanY - slope * meanX;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (intercept + slope * xs[i]!)) ** 2;
  const residualStdDev = n > 2 ? Math.sqrt(sse / (n - 2)) : Number.NaN;
  const slopeStdError = n > 2 && sxx > 0 ? residualStdDev / Math.sqrt(sxx) : Number.NaN;
  return { slope, intercept, slopeStdError, residualStdDev, points: n };
}
