// What every fuzzed parser and trace must do, as assertions shared by the property tests.
import {expect} from 'vitest'
import {DumpError} from '../../../src/core/iptables/dump.js'
import {isUncertain} from '../../../src/core/trace/notes.js'
import type {Trace} from '../../../src/core/trace/branch.js'

/** Lines of a text as an editor counts them. */
export function lineCount(text: string): number {
  let n = 1
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) n++
  return n
}

/** A sentence for users: no JavaScript value leaked into it. */
export function expectReadable(message: string): void {
  expect(message).not.toMatch(/\bundefined\b|\bNaN\b|\[object /)
}

/**
 * Runs a parser: its result, or undefined when it threw its own error (DumpError) naming the source
 * and a line of the text (0: the text as a whole). Any other exception escapes and fails the property.
 */
export function parsedOrExplained<T>(parse: () => T, source: string, text: string): T | undefined {
  try {
    return parse()
  } catch (err) {
    if (!(err instanceof DumpError)) throw err
    expect(err.source).toBe(source)
    expect(err.message.startsWith(source)).toBe(true)
    expect(err.line).toBeGreaterThanOrEqual(0)
    expect(err.line).toBeLessThanOrEqual(lineCount(text))
    expectReadable(err.problem)
    return undefined
  }
}

/** Rule visits a trace may make per unit of input, and the slack for the forks MAX_BRANCHES allows. */
const WORK_PER_UNIT = 32
const SLACK = 4096

/**
 * The trace did work linear in its input (`size`: lines or rules and map elements), and a bounded
 * number of outcomes; a branch that skipped something says so in the trace's notes.
 */
export function expectBoundedTrace(trace: Trace, size: number): void {
  expect(trace.rulesVisited).toBeLessThanOrEqual(WORK_PER_UNIT * (size + SLACK))
  expect(trace.outcomes.length).toBeGreaterThan(0)
  expect(trace.outcomes.length).toBeLessThanOrEqual(WORK_PER_UNIT * (size + SLACK))
  const skipped = trace.outcomes.some((o) => o.notes.some((n) => n.kind === 'rule-skipped' || n.kind === 'jump-cycle-at'))
  if (skipped) expect(trace.notes.some(isUncertain)).toBe(true)
  for (const o of trace.outcomes) expect(Number.isFinite(o.probability) && o.probability >= 0 && o.probability <= 1 + 1e-9).toBe(true)
}
