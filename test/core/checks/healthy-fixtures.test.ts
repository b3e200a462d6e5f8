// Zero false positives: every bundle under test/fixtures/healthy/ (one per proxy mode, Service type
// and traffic policy, made from real kube-proxy output or the project's renderer; see its README)
// is traced whole (-A) through the pure pipeline and must give no warning and no error. Info
// findings may appear, but each must be a fact the fixture's API objects show. A new fixture
// directory is a new case.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import type {V1Service} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../../src/adapters/bundle/reader.js'
import {runTrace} from '../../../src/app/run-trace.js'
import {keyOf} from '../../../src/core/cluster-index.js'
import type {ClusterView, Finding} from '../../../src/core/model.js'
import {root} from '../../support/cli.js'

const dir = path.join(root, 'test/fixtures/healthy')
const fixtures = readdirSync(dir, {withFileTypes: true})
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()

/** The proxy mode a fixture's name starts with, as the report names it. */
const MODES = {iptables: 'iptables', ipvs: 'ipvs', nftables: 'nftables'} as const
const modeOf = (name: string) => MODES[name.split('-')[0] as keyof typeof MODES]

const inDefaultRange = (port: number) => port >= 30000 && port <= 32767

/**
 * The info findings a healthy fixture may carry, each with the fact it states, checked against the
 * fixture's own API objects: an unknown info id fails until someone checks it is true and adds it.
 */
const INFO_FACTS: Record<string, (svc: V1Service, f: Finding, view: ClusterView) => boolean> = {
  // Real samples use kube-proxy's test node ports (3001…), outside 30000-32767.
  'node-port-outside-default-range': (svc) =>
    [...(svc.spec?.ports ?? []).map((p) => p.nodePort ?? 30000), svc.spec?.healthCheckNodePort ?? 30000].some((p) => !inDefaultRange(p)),
  'session-affinity': (svc, f) =>
    svc.spec?.sessionAffinity === 'ClientIP' && f.message.includes(`${svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800} s`),
  'headless-service': (svc) => svc.spec?.clusterIP === 'None',
  'dual-stack': (svc, f) => (svc.spec?.ipFamilies ?? []).length === 2 && f.message.endsWith(`is dual-stack (${(svc.spec?.ipFamilies ?? []).join(', ')})`),
  // Only loadBalancerSourceRanges keeping an assumed client out is info.
  'traffic-dropped': (svc, f) =>
    (svc.spec?.loadBalancerSourceRanges ?? []).length > 0 && f.message.includes('(load-balancer)') && f.message.endsWith('not in loadBalancerSourceRanges'),
  // A LoadBalancer with ETP Local: the node named has no ready endpoint, and the health check keeps traffic off it.
  'external-traffic-local-node-without-endpoint': (svc, f, view) => {
    if (svc.spec?.type !== 'LoadBalancer' || svc.spec.externalTrafficPolicy !== 'Local' || !svc.spec.healthCheckNodePort) return false
    const named = view.nodes.map((n) => n.metadata?.name ?? '').filter((n) => f.message.includes(`node ${n} has no local endpoint`))
    const slices = view.endpointSlices.filter(
      (s) => s.metadata?.namespace === svc.metadata?.namespace && s.metadata?.labels?.['kubernetes.io/service-name'] === svc.metadata?.name,
    )
    const withEndpoint = new Set(slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.nodeName)))
    return named.length > 0 && named.every((n) => !withEndpoint.has(n))
  },
}

/** What a finding says, for a failure message. */
const show = (f: Finding) => `${f.severity} ${f.id}: ${f.message}`

describe('healthy fixtures give no warning and no error', () => {
  it('cover every mode', () => {
    expect(new Set(fixtures.map(modeOf))).toEqual(new Set(['iptables', 'ipvs', 'nftables']))
  })

  it.each(fixtures)('%s', async (name) => {
    const fixture = path.join(dir, name)
    expect(readFileSync(path.join(fixture, 'README.md'), 'utf8'), 'its README says where it came from').toMatch(/sample|renderer/)
    const bundle = new BundleDir(fixture)
    const {view} = await bundle.load()
    const {report, exit} = await runTrace({query: {kind: 'all'}, nodes: [], failOn: 'warning', ignore: []}, {cluster: bundle, reader: bundle})

    expect(report.findings.filter((f) => f.severity !== 'info').map(show)).toEqual([])
    expect(exit.code).toBe(0)
    expect(report.services.map((s) => `${s.namespace}/${s.name} ${s.verdict.status}`).sort()).toEqual(view.services.map((s) => `${keyOf(s)} ok`).sort())
    // Every node was read and traced in the mode the fixture is named for.
    expect(report.nodes.map((n) => n.mode)).toEqual(report.nodes.map(() => modeOf(name)))
    expect(report.nodes.length).toBeGreaterThan(0)

    for (const f of report.findings) {
      const fact = INFO_FACTS[f.id]
      const svc = view.services.find((s) => keyOf(s) === f.service)
      expect(fact && svc && fact(svc, f, view), `${show(f)} is a fact of the fixture`).toBe(true)
    }
  })
})
