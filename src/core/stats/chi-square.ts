// Pearson's chi-square goodness-of-fit test, and the distribution's survival function it needs,
// computed here (no statistics library at runtime): P(X > x) for X ~ chi²(df) is the regularized
// upper incomplete gamma Q(df/2, x/2). Series for x < a+1, Lentz's continued fraction otherwise
// (Numerical Recipes §6.2), each to double precision.

const EPS = 1e-15
const MAX_STEPS = 10_000
// Lanczos coefficients (g = 7, n = 9): ln Γ to ~15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const z = x - 1
  let sum = LANCZOS[0] ?? 1
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] ?? 0) / (z + i)
  const t = z + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

/** P(a, x) by its power series; converges fast for x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let term = 1 / a
  let sum = term
  for (let n = 1; n < MAX_STEPS; n++) {
    term *= x / (a + n)
    sum += term
    if (Math.abs(term) < Math.abs(sum) * EPS) break
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a))
}

/** Q(a, x) by its continued fraction (modified Lentz); converges fast for x ≥ a + 1. */
function upperFraction(a: number, x: number): number {
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_STEPS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h
}

/** The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x ≥ 0. */
export function upperRegularizedGamma(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`upperRegularizedGamma(${a}, ${x}): needs a > 0 and x ≥ 0`)
  if (x === 0) return 1
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperFraction(a, x)
}

/** P(X > x) for X chi-square distributed with df degrees of freedom (scipy's chi2.sf). */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chi-square with ${df} degrees of freedom`)
  return x <= 0 ? 1 : upperRegularizedGamma(df / 2, x / 2)
}

/** A goodness-of-fit result: the statistic, its degrees of freedom, and the chance of a split at least this uneven. */
export interface GoodnessOfFit {
  statistic: number
  df: number
  pValue: number
}

/**
 * Pearson's test of observed counts against expected shares (which must sum to 1, each > 0):
 * Σ (O − E)² / E with E = n·share, df = categories − 1.
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], shares: readonly number[]): GoodnessOfFit {
  if (observed.length !== shares.length || observed.length < 2) throw new RangeError('chi-square test: needs two or more categories, one share each')
  const n = observed.reduce((s, o) => s + o, 0)
  let statistic = 0
  observed.forEach((o, i) => {
    const expected = n * (shares[i] ?? 0)
    if (!(expected > 0)) throw new RangeError('chi-square test: every expected share must be above 0')
    statistic += (o - expected) ** 2 / expected
  })
  const df = observed.length - 1
  return {statistic, df, pValue: chiSquareSurvival(statistic, df)}
}
