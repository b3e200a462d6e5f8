// Every IPVS sample (kube-proxy v1.26's IPVS proxier run against its fake kernel, and the upstream
// README listing) traced for the entry points in test/fixtures/samples/ipvs/expectations.ts. Each case
// runs against the `ipvsadm -Ln` and `ipvsadm -Sn` forms, and against the derived /proc/net/ip_vs and
// `ipset list` forms where the scenario has them.
import {existsSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {indexIptablesSave} from '../../../src/core/iptables/dump.js'
import type {Outcome} from '../../../src/core/trace/branch.js'
import {parseIpset} from '../../../src/core/ipvs/ipset.js'
import {parseIpvsTable} from '../../../src/core/ipvs/ipvsadm.js'
import {traceIpvs} from '../../../src/core/ipvs/trace.js'
import {ipvsCases, type IpvsCase} from '../../fixtures/samples/ipvs/expectations.js'
import {noteLines} from '../../support/notes.js'
import {at} from '../../support/defined.js'

const dir = fileURLToPath(new URL('../../fixtures/samples/ipvs/', import.meta.url))
const read = (f: string) => readFileSync(dir + f, 'utf8')

interface Form {
  label: string
  ipvs: string
  ipset?: string | undefined
  proc: boolean
}

/** The files one scenario can be read from. */
function formsOf(scenario: string): Form[] {
  const ipset = existsSync(`${dir}${scenario}.ipset-save.txt`) ? `${scenario}.ipset-save.txt` : undefined
  const candidates: Form[] = [
    {label: 'ipvsadm -Ln', ipvs: scenario === 'ipvs-readme' ? 'ipvs-readme-ipvsadm-ln.txt' : `${scenario}.ipvsadm-list.txt`, ipset, proc: false},
    {label: 'ipvsadm -Sn', ipvs: `${scenario}.ipvsadm-save.txt`, ipset, proc: false},
    {label: '/proc/net/ip_vs', ipvs: `derived/${scenario}.proc-net-ip_vs.txt`, ipset, proc: true},
    {label: 'ipvsadm -Sn + ipset list', ipvs: `${scenario}.ipvsadm-save.txt`, ipset: `derived/${scenario}.ipset-list.txt`, proc: false},
  ]
  return candidates.filter(
    (f) => existsSync(dir + f.ipvs) && (f.ipset === undefined || existsSync(dir + f.ipset)) && (f.ipset !== undefined || ipset === undefined),
  )
}

const settled = (outcomes: Outcome[]) => outcomes.filter((o) => o.conditions.every((c) => !c.holds))
const table = ipvsCases.flatMap((c) => formsOf(c.scenario).map((f) => [`${c.name} [${f.label}]`, c, f] as [string, IpvsCase, Form]))

describe('tracing the kube-proxy IPVS samples', () => {
  it('every scenario has at least its -Ln form, and the 1.26 ones their -Sn form too', () => {
    for (const c of ipvsCases) {
      const labels = formsOf(c.scenario).map((f) => f.label)
      expect(labels).toContain('ipvsadm -Ln')
      if (c.scenario.startsWith('ipvs-1.26')) expect(labels).toContain('ipvsadm -Sn')
    }
  })

  it.each(table)('%s', (_name, c, form) => {
    const rules = `${c.scenario}.iptables-restore.txt`
    const trace = traceIpvs(
      {
        table: parseIpvsTable(read(form.ipvs), form.ipvs),
        ...(form.ipset ? {ipsets: parseIpset(read(form.ipset), form.ipset)} : {}),
        ...(existsSync(dir + rules) ? {iptables: indexIptablesSave(read(rules), rules)} : {}),
      },
      {
        node: {name: c.node.name, addresses: c.node.ips},
        destination: c.destination,
        from: c.from,
        ...(c.source !== undefined ? {source: c.source} : {}),
        podNetworks: ['10.0.0.0/8'],
      },
    )
    const outcomes = settled(trace.outcomes)
    expect([...new Set(outcomes.map((o) => o.verdict))]).toEqual([c.expect.verdict])
    const backends = outcomes.filter((o) => o.dnat).map((o) => ({ip: o.dnat!.ip, port: o.dnat!.port, probability: o.probability}))
    expect(backends.map((b) => `${b.ip}:${b.port}`)).toEqual(c.expect.backends.map((b) => `${b.ip}:${b.port}`))
    backends.forEach((b, i) => expect(b.probability).toBeCloseTo(at(c.expect.backends, i).probability, 8))
    for (const o of outcomes.filter((x) => x.dnat)) expect(o.dnat!.chain).toBe(`ipvs ${c.destination.ip}:${c.destination.port}/${c.destination.protocol}`)
    if (c.expect.masquerade !== undefined) for (const o of outcomes) expect(o.masquerade).toBe(c.expect.masquerade ?? undefined)
    const affinity = outcomes.find((o) => o.affinitySeconds !== undefined)?.affinitySeconds
    if (form.proc && c.expect.affinityTimeoutSeconds !== undefined) {
      // /proc/net/ip_vs gives the timeout in kernel ticks; the derived file used HZ=250.
      expect(affinity).toBeUndefined()
      expect(noteLines(outcomes.flatMap((o) => o.notes))).toContain(`${c.expect.affinityTimeoutSeconds * 250} kernel ticks`)
    } else {
      expect(affinity).toBe(c.expect.affinityTimeoutSeconds)
    }
  })
})
