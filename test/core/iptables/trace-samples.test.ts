// Every iptables sample of kube-proxy (upstream tests, v1.26 tests, and their iptables-save
// renderings) traced for every Service entry point listed in the samples' INDEX.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {indexIptablesSave} from '../../../src/core/iptables/dump.js'
import {traceIptables} from '../../../src/core/iptables/trace.js'
import type {Outcome} from '../../../src/core/trace/branch.js'
import {sampleCases} from '../../fixtures/samples/expectations.js'
import {at} from '../../support/defined.js'

const dir = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url))
const dumps = new Map<string, ReturnType<typeof indexIptablesSave>>()
function dumpOf(file: string) {
  let d = dumps.get(file)
  if (!d) {
    d = indexIptablesSave(readFileSync(dir + file, 'utf8'), file)
    dumps.set(file, d)
  }
  return d
}

/** The outcomes under the default assumptions (every undecided condition fails). */
function settled(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.conditions.every((c) => !c.holds))
}

describe('tracing the kube-proxy samples', () => {
  it.each(sampleCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const trace = traceIptables(dumpOf(c.file), {
      node: {name: c.node.name, addresses: c.node.ips},
      destination: c.destination,
      from: c.from,
      source: c.source,
      podNetworks: ['10.0.0.0/8'],
    })
    const outcomes = settled(trace.outcomes)
    const verdicts = new Set(outcomes.map((o) => o.verdict))
    expect([...verdicts]).toEqual([c.expect.verdict])
    const backends = outcomes.filter((o) => o.dnat).map((o) => ({ip: o.dnat!.ip, port: o.dnat!.port, probability: o.probability}))
    expect(backends.map((b) => `${b.ip}:${b.port}`)).toEqual(c.expect.backends.map((b) => `${b.ip}:${b.port}`))
    backends.forEach((b, i) => expect(b.probability).toBeCloseTo(at(c.expect.backends, i).probability, 8))
    if (c.expect.masquerade !== undefined) {
      for (const o of outcomes) expect(o.masquerade).toBe(c.expect.masquerade)
    }
    const affinity = trace.outcomes.find((o) => o.affinitySeconds !== undefined)?.affinitySeconds
    expect(affinity).toBe(c.expect.affinityTimeoutSeconds)
  })
})
