// Bounds every walk shares, whatever the mode: a hostile or broken dump cannot make a trace fork
// without end or follow jumps forever.

/** Branches one trace may create before it stops forking (and says the result is incomplete). */
export const MAX_BRANCHES = 4096

/**
 * Rule visits a walk may make per rule (and map element) of its input, on top of a floor for the
 * forks MAX_BRANCHES allows. Jumps that reach one chain by many routes (A jumps to B twice, B to C
 * twice, …) multiply a walk's work without forking; past this the walk stops and says so.
 */
const VISITS_PER_RULE = 16

/** The rule visits one trace of an input of `rules` rules may make. */
export function visitLimit(rules: number): number {
  return VISITS_PER_RULE * (rules + MAX_BRANCHES)
}

/**
 * Steps one path may record (hops, assumed conditions, notes) before the walk stops following it:
 * a branch's lists are copied on every fork, so an endless path would make the work quadratic.
 * A kube-proxy path has a few dozen.
 */
export const MAX_PATH = 256

/** Chains deep a walk may go (jumps inside jumps) before a jump counts as a cycle. */
export const MAX_DEPTH = 64

/** kube-proxy's default --iptables-masquerade-bit 14, the mark KUBE-MARK-MASQ sets. */
export const DEFAULT_MASQ_MARK = 0x4000
