// Element access for tests under noUncheckedIndexedAccess: a missing element fails the test with a
// message that says what was missing, instead of a TypeError a few lines later.

/** The first element of `xs`; throws when `xs` is empty. */
export function first<T>(xs: readonly T[], what = 'element'): T {
  return at(xs, 0, what)
}

/** The only element of `xs`; throws when there are none or several. */
export function only<T>(xs: readonly T[], what = 'element'): T {
  if (xs.length !== 1) throw new Error(`expected exactly one ${what}, got ${xs.length}`)
  return at(xs, 0, what)
}

/** `xs[i]` (negative counts from the end); throws when there is no such element. */
export function at<T>(xs: readonly T[], i: number, what = 'element'): T {
  const x = xs.at(i)
  if (x === undefined) throw new Error(`expected ${what} at index ${i}, got ${xs.length} element(s)`)
  return x
}

/** `x`, when it is not undefined; throws naming `what` otherwise. */
export function defined<T>(x: T | undefined, what = 'value'): T {
  if (x === undefined) throw new Error(`expected ${what} to be defined`)
  return x
}
