import {describe, expect, it} from 'vitest'
import {chiSquareGoodnessOfFit, chiSquareSurvival, logGamma, upperRegularizedGamma} from '../../../src/core/stats/chi-square.js'

// Reference values: scipy 1.17.1, `chi2.sf(x, df)` and `chisquare(observed)`, printed with repr().
const SF: Array<[df: number, x: number, sf: number]> = [
  [1, 0.001, 0.9747728793699604],
  [1, 0.5, 0.47950012218695337],
  [1, 1, 0.31731050786291115],
  [1, 3.841458820694124, 0.04999999999999989],
  [1, 10, 0.001565402258002549],
  [1, 20.515005652432876, 5.916559878121866e-6],
  [1, 50, 1.537459794428033e-12],
  [1, 100, 1.5239706048320995e-23],
  [1, 300, 3.2943623833139784e-67],
  [2, 0.001, 0.9995001249791693],
  [2, 0.5, 0.7788007830714049],
  [2, 3.841458820694124, 0.1465000644860843],
  [2, 10, 0.006737946999085468],
  [2, 100, 1.9287498479639183e-22],
  [5, 0.5, 0.9921232932326296],
  [5, 1, 0.9625657732472964],
  [5, 3.841458820694124, 0.5724604629258029],
  [5, 10, 0.07523524614651217],
  [5, 20.515005652432876, 0.001],
  [5, 50, 1.3857973367009573e-9],
  [5, 300, 1.0015302305957817e-62],
  [10, 0.5, 0.999993388289439],
  [10, 10, 0.44049328506521257],
  [10, 20.515005652432876, 0.024741136351003074],
  [10, 100, 5.4497019829205215e-17],
  [50, 20.515005652432876, 0.99993042898874],
  [50, 50, 0.47339846855634937],
  [50, 100, 3.454931382984871e-5],
  [50, 300, 2.3141364165140704e-37],
]

describe('chiSquareSurvival', () => {
  it.each(SF)('chi2.sf(x, df=%i) at x=%f is %e (scipy)', (df, x, sf) => {
    const got = chiSquareSurvival(x, df)
    expect(Math.abs(got - sf) / sf).toBeLessThan(1e-9)
  })

  it('is 1 at and below 0, and refuses a distribution without degrees of freedom', () => {
    expect(chiSquareSurvival(0, 3)).toBe(1)
    expect(chiSquareSurvival(-1, 3)).toBe(1)
    expect(() => chiSquareSurvival(1, 0)).toThrow(RangeError)
  })

  it('falls to 0 (not NaN) far in the tail', () => {
    expect(chiSquareSurvival(17082.99, 2)).toBe(0)
  })
})

describe('upperRegularizedGamma and logGamma', () => {
  it.each([
    [1, 0],
    [2, 0],
    [5, Math.log(24)],
    [0.5, Math.log(Math.sqrt(Math.PI))],
    [10.5, 13.940625219403763],
  ])('ln Γ(%f) = %f', (x, want) => {
    expect(logGamma(x)).toBeCloseTo(want, 12)
  })

  it('Q(1, x) = e^-x on both sides of the series/fraction switch', () => {
    for (const x of [0.1, 1.5, 2, 7, 40]) expect(upperRegularizedGamma(1, x)).toBeCloseTo(Math.exp(-x), 14)
  })

  it('refuses arguments outside its domain', () => {
    expect(() => upperRegularizedGamma(0, 1)).toThrow(RangeError)
    expect(() => upperRegularizedGamma(1, -1)).toThrow(RangeError)
  })
})

describe('chiSquareGoodnessOfFit', () => {
  it.each([
    // observed, shares, scipy chisquare statistic, p-value
    [[40, 30, 35], [1 / 3, 1 / 3, 1 / 3], 1.4285714285714286, 0.48954165955695306],
    [[60, 20, 20], [1 / 3, 1 / 3, 1 / 3], 32.0, 1.1253517471925916e-7],
    [[9120, 150, 150], [1 / 3, 1 / 3, 1 / 3], 17082.993630573248, 0],
  ])('%j against %j: statistic %f, p %e', (observed, shares, statistic, p) => {
    const r = chiSquareGoodnessOfFit(observed, shares)
    expect(r.df).toBe(observed.length - 1)
    expect(r.statistic).toBeCloseTo(statistic, 9)
    expect(p === 0 ? r.pValue : Math.abs(r.pValue - p) / p).toBeLessThan(1e-9)
  })

  it('uses the configured shares, not an even split', () => {
    // 50/25/25 configured and observed exactly: no deviation at all.
    expect(chiSquareGoodnessOfFit([500, 250, 250], [0.5, 0.25, 0.25]).statistic).toBe(0)
  })

  it('refuses a share of 0 and mismatched lengths', () => {
    expect(() => chiSquareGoodnessOfFit([1, 2], [1, 0])).toThrow(RangeError)
    expect(() => chiSquareGoodnessOfFit([1, 2, 3], [0.5, 0.5])).toThrow(RangeError)
  })
})
