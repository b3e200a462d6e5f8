// The use case in-process, against the bundled example (examples/hello-world read by the bundle
// adapter, as both ClusterSource and NodeReader): the report, --ignore, the exit decision for each
// --fail-on, "nothing read", --capture through its port, and check mode's per-Service parts.
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {decideExit, type FailOn} from '../../src/app/exit-decision.js'
import type {CaptureMeta, CaptureSink, ClusterRead, ClusterSource, NodeReader} from '../../src/app/ports.js'
import {runTrace, type TraceSettings} from '../../src/app/run-trace.js'
import {InterruptedError} from '../../src/app/trace.js'
import type {ServicePart} from '../../src/core/check-report.js'
import type {ClusterView, Finding, NodeDataplane, Query} from '../../src/core/model.js'
import {example} from '../support/cli.js'

const bundle = new BundleDir(example)
const service = (name: string): Query => ({kind: 'service', service: name, namespace: 'default'})
const settings = (query: Query, more: Partial<TraceSettings> = {}): TraceSettings => ({query, nodes: [], failOn: 'error', ignore: [], ...more})
const trace = (s: TraceSettings, ports: Partial<Parameters<typeof runTrace>[1]> = {}) => runTrace(s, {cluster: bundle, reader: bundle, ...ports})
const ids = (findings: Finding[]) => findings.map((f) => f.id)

/** The example as a live source that was denied one list: the report gains an api-read-denied warning. */
const deniedSource: ClusterSource = {
  description: 'bundle with a denied read',
  defaultNamespace: () => bundle.defaultNamespace(),
  load: async () => ({...(await bundle.load()), denied: ['listing pods was denied']}),
}

const emptyView = (): ClusterView => ({services: [], endpointSlices: [], endpoints: [], pods: [], nodes: []})

describe('the report of one Service', () => {
  it('traces hello-world on both nodes of the bundle, with nothing to report', async () => {
    const {report, exit} = await trace(settings(service('hello-world')))
    expect(report.apiVersion).toBe('svctrace/v2')
    expect(report.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(['default/hello-world'])
    expect(report.nodes.map((n) => n.name)).toEqual(['node-a', 'node-b'])
    expect(report.nodes.every((n) => n.paths.length > 0 && n.paths.every((p) => p.entry.service === 'default/hello-world'))).toBe(true)
    expect(report.findings).toEqual([])
    expect(exit).toEqual({code: 0, reason: 'clean'})
  })

  it('a Service without endpoints reports why, and fails the run', async () => {
    const {report, exit} = await trace(settings(service('hello-cache')))
    expect(ids(report.findings)).toEqual(['selector-matches-no-pods', 'service-rejected-no-endpoints'])
    expect(exit).toEqual({code: 1, reason: 'findings'})
  })
})

describe('--ignore', () => {
  it('leaves the ignored ids out of the report', async () => {
    const {report, exit} = await trace(settings(service('hello-cache'), {ignore: ['selector-matches-no-pods']}))
    expect(ids(report.findings)).toEqual(['service-rejected-no-endpoints'])
    expect(exit.code).toBe(1)
  })

  it('and out of the exit decision', async () => {
    const {report, exit} = await trace(settings({kind: 'all'}, {ignore: ['selector-matches-no-pods', 'service-rejected-no-endpoints']}))
    expect(ids(report.findings)).not.toContain('selector-matches-no-pods')
    expect(report.findings.every((f) => f.severity === 'info')).toBe(true)
    expect(exit).toEqual({code: 0, reason: 'clean'})
  })
})

describe('the exit decision for each --fail-on', () => {
  // hello-cache: errors; a denied read: a warning; web-lb: info (dropped traffic); hello-world: nothing.
  it.each<[string, Query, ClusterSource, FailOn, 0 | 1]>([
    ['errors', service('hello-cache'), bundle, 'error', 1],
    ['errors', service('hello-cache'), bundle, 'warning', 1],
    ['errors', service('hello-cache'), bundle, 'info', 1],
    ['errors', service('hello-cache'), bundle, 'none', 0],
    ['a warning', service('hello-world'), deniedSource, 'error', 0],
    ['a warning', service('hello-world'), deniedSource, 'warning', 1],
    ['a warning', service('hello-world'), deniedSource, 'info', 1],
    ['a warning', service('hello-world'), deniedSource, 'none', 0],
    ['info', service('web-lb'), bundle, 'error', 0],
    ['info', service('web-lb'), bundle, 'warning', 0],
    ['info', service('web-lb'), bundle, 'info', 1],
    ['info', service('web-lb'), bundle, 'none', 0],
    ['nothing', service('hello-world'), bundle, 'info', 0],
  ])('%s, --fail-on $3 → exit $4', async (_, query, cluster, failOn, code) => {
    const {exit} = await trace(settings(query, {failOn}), {cluster})
    expect(exit.code).toBe(code)
  })

  it('ranks severities: error ≥ warning ≥ info; none never fails', () => {
    const f = (severity: Finding['severity']): Finding => ({id: 'trace-uncertain', severity, message: ''})
    expect(decideExit([f('warning')], 'error', false).code).toBe(0)
    expect(decideExit([f('error')], 'info', false).code).toBe(1)
    expect(decideExit([f('error')], 'none', false).code).toBe(0)
    expect(decideExit([], 'info', true)).toEqual({code: 2, reason: 'nothing-read'})
  })
})

describe('nothing read', () => {
  const empty: ClusterSource = {
    description: 'a source that holds nothing',
    defaultNamespace: async () => 'default',
    load: async (): Promise<ClusterRead> => ({view: emptyView(), denied: ['listing services was denied', 'listing nodes was denied']}),
  }
  const unreadable: NodeReader = {
    nodeNames: async () => ['node-a'],
    read: async (node) => ({name: node, captures: [], readError: 'connection refused'}),
  }

  it('no API object and no readable node: exit 2, whatever --fail-on says', async () => {
    for (const failOn of ['error', 'none'] as const) {
      const {exit} = await runTrace(settings({kind: 'all'}, {failOn}), {cluster: empty, reader: unreadable})
      expect(exit).toEqual({code: 2, reason: 'nothing-read'})
    }
  })

  it('unreadable nodes alone are error rows of a report, not "nothing read"', async () => {
    const {report, exit} = await runTrace(settings(service('hello-world'), {failOn: 'none'}), {cluster: bundle, reader: unreadable})
    expect(report.nodes).toEqual([expect.objectContaining({name: 'node-a', readError: 'connection refused'})])
    expect(exit.code).toBe(0)
  })
})

describe('--capture through the CaptureSink port', () => {
  class FakeSink implements CaptureSink {
    writes: Array<{view: ClusterView; dataplanes: NodeDataplane[]; meta: CaptureMeta}> = []
    async write(view: ClusterView, dataplanes: NodeDataplane[], meta: CaptureMeta): Promise<void> {
      this.writes.push({view, dataplanes, meta})
    }
  }

  it('gets every object and node dump that was read, once, with where and what was asked', async () => {
    const sink = new FakeSink()
    const query = service('hello-world')
    const {report} = await trace(settings(query), {capture: sink})
    expect(sink.writes).toHaveLength(1)
    const [{view, dataplanes, meta}] = sink.writes as [FakeSink['writes'][number]]
    // What a trace of one Service reads from a bundle, as from the API: its own Service and slices, every pod and node.
    const all = await bundle.load()
    expect(all.view.services.length).toBeGreaterThan(1)
    expect(view.services.map((s) => s.metadata?.name)).toEqual(['hello-world'])
    expect(view.endpointSlices.map((s) => s.metadata?.labels?.['kubernetes.io/service-name'])).toEqual(['hello-world'])
    expect(view.pods).toHaveLength(all.view.pods.length)
    expect(view.nodes).toHaveLength(all.view.nodes.length)
    // And it is enough to trace the Service again.
    const again: ClusterSource = {description: 'the capture', defaultNamespace: async () => 'default', load: async () => ({view, denied: []})}
    expect((await trace(settings(query), {cluster: again})).report).toEqual(report)
    expect(dataplanes.map((d) => d.name)).toEqual(['node-a', 'node-b'])
    expect(dataplanes.every((d) => d.captures.some((c) => c.kind === 'iptables-save') && d.readError === undefined)).toBe(true)
    expect(meta).toEqual({capturedFrom: `bundle ${example}`, query})
  })

  it('a sink that refuses (a non-empty directory) fails the run', async () => {
    const refusing: CaptureSink = {
      write: async () => {
        throw new Error('--capture out: the directory is not empty')
      },
    }
    await expect(trace(settings(service('hello-world')), {capture: refusing})).rejects.toThrow('not empty')
  })

  it('without a sink nothing is written', async () => {
    const {exit} = await trace(settings(service('hello-world')))
    expect(exit.code).toBe(0)
  })
})

describe('check mode yields one part per Service', () => {
  const check = settings({kind: 'all'}, {ignore: ['selector-matches-no-pods']})

  it('in report order, each with its own paths and findings; the report is the same with or without the hook', async () => {
    const parts: ServicePart[] = []
    const {report} = await runTrace(check, {cluster: bundle, reader: bundle}, {onService: (p) => void parts.push(p)})
    expect(report).toEqual((await trace(check)).report)
    expect(parts.map((p) => p.service.name)).toEqual(['hello-cache', 'hello-world', 'kubernetes', 'web-lb'])
    expect(parts.map((p) => p.service)).toEqual(report.services)
    for (const part of parts) {
      const key = `${part.service.namespace}/${part.service.name}`
      expect(part.findings).toEqual(report.findings.filter((f) => f.service === key))
      expect(part.nodes.map((n) => n.name)).toEqual(['node-a', 'node-b'])
      expect(part.nodes.flatMap((n) => n.paths).every((p) => p.entry.service === key)).toBe(true)
    }
    // Together the parts hold every path of the report; --ignore applies to them too.
    expect(parts.flatMap((p) => p.nodes.flatMap((n) => n.paths))).toHaveLength(report.nodes.flatMap((n) => n.paths).length)
    expect(parts.flatMap((p) => ids(p.findings))).toEqual(expect.arrayContaining(['service-rejected-no-endpoints', 'traffic-dropped']))
    expect(parts.flatMap((p) => ids(p.findings))).not.toContain('selector-matches-no-pods')
  })

  it('awaits each part before the next and before returning (room for a streaming renderer)', async () => {
    const events: string[] = []
    await runTrace(
      settings({kind: 'all', namespace: 'default'}),
      {cluster: bundle, reader: bundle},
      {
        onService: async (p) => {
          events.push(`start ${p.service.name}`)
          await new Promise((r) => setTimeout(r, 1))
          events.push(`end ${p.service.name}`)
        },
      },
    )
    events.push('returned')
    expect(events).toEqual([...['hello-cache', 'hello-world', 'kubernetes', 'web-lb'].flatMap((n) => [`start ${n}`, `end ${n}`]), 'returned'])
  })

  it('with only the summary shown (summaryOnly), the report keeps no path or backend and is otherwise the same; the parts still hold theirs', async () => {
    const parts: ServicePart[] = []
    const {report} = await runTrace({...check, summaryOnly: true}, {cluster: bundle, reader: bundle}, {onService: (p) => void parts.push(p)})
    const full = (await trace(check)).report
    expect(report).toEqual({...full, services: full.services.map((s) => ({...s, backends: []})), nodes: full.nodes.map((n) => ({...n, paths: []}))})
    expect(report.nodes.every((n) => n.ruleWalk !== undefined)).toBe(true)
    full.nodes.forEach((n, i) => expect(parts.flatMap((p) => p.nodes[i]?.paths ?? [])).toEqual(n.paths))
    expect(full.services.some((s) => s.backends.length > 0)).toBe(true)
    expect(parts.map((p) => p.service)).toEqual(full.services)
  })

  it('--ignore judges each part again: a Service whose only error is ignored is no longer broken', async () => {
    const parts: ServicePart[] = []
    const cache = (list: ServicePart[]) => list.find((p) => p.service.name === 'hello-cache')?.service.verdict
    await runTrace(settings({kind: 'all'}), {cluster: bundle, reader: bundle}, {onService: (p) => void parts.push(p)})
    expect(cache(parts)?.status).toBe('broken')
    const ignoring: ServicePart[] = []
    const ignore = ['selector-matches-no-pods', 'service-rejected-no-endpoints']
    const {report} = await runTrace(
      settings({kind: 'all'}, {ignore, summaryOnly: true}),
      {cluster: bundle, reader: bundle},
      {onService: (p) => void ignoring.push(p)},
    )
    expect(cache(ignoring)).toEqual({...cache(parts), status: 'ok', cause: undefined})
    expect(ignoring.map((p) => ({...p.service, backends: []}))).toEqual(report.services)
  })

  it('is not called for one Service or an address', async () => {
    const parts: ServicePart[] = []
    await runTrace(settings(service('hello-world')), {cluster: bundle, reader: bundle}, {onService: (p) => void parts.push(p)})
    await runTrace(
      settings({kind: 'ip', ip: '10.96.77.44', port: 80, protocol: 'TCP'}),
      {cluster: bundle, reader: bundle},
      {onService: (p) => void parts.push(p)},
    )
    expect(parts).toEqual([])
  })
})

describe('interrupted (Ctrl-C, SIGTERM) while nodes are read', () => {
  /** The example bundle, with node-b's read never answering (a node that stopped mid-command). */
  const stuckReader = (): NodeReader => ({
    nodeNames: () => bundle.nodeNames(),
    read: (node) => (node === 'node-b' ? new Promise<NodeDataplane>(() => undefined) : bundle.read(node)),
  })
  /** An interruption that comes once node-a has answered. */
  const afterNodeA = (reader: NodeReader): {reader: NodeReader; interrupted: Promise<void>} => {
    let fire: () => void = () => undefined
    const interrupted = new Promise<void>((resolve) => (fire = resolve))
    return {
      reader: {
        ...reader,
        nodeNames: (view) => reader.nodeNames(view),
        read: async (node, plan) => {
          const got = await reader.read(node, plan)
          if (node === 'node-a') setTimeout(fire, 10)
          return got
        },
      },
      interrupted,
    }
  }

  it('the nodes that answered are traced; the others are named in partial, without a node-unreadable finding', async () => {
    const {reader, interrupted} = afterNodeA(stuckReader())
    const {report} = await runTrace(settings(service('hello-world')), {cluster: bundle, reader}, {interrupted})
    expect(report.partial).toEqual({reason: 'interrupted', nodes: ['node-b']})
    const [a, b] = report.nodes
    expect(a?.paths.length).toBeGreaterThan(0)
    expect(a?.interrupted).toBeUndefined()
    expect(b).toMatchObject({name: 'node-b', interrupted: true, paths: []})
    expect(b?.readError).toMatch(/interrupted before it answered/)
    expect(ids(report.findings)).not.toContain('node-unreadable')
  })

  it('a run not interrupted has no partial mark, with the hook installed', async () => {
    const {report} = await runTrace(settings(service('hello-world')), {cluster: bundle, reader: bundle}, {interrupted: new Promise(() => undefined)})
    expect(report.partial).toBeUndefined()
    expect(report.nodes.every((n) => n.paths.length > 0)).toBe(true)
  })

  it('--capture writes nothing from an interrupted run: a bundle without the silent nodes would misread later', async () => {
    const {reader, interrupted} = afterNodeA(stuckReader())
    const writes: unknown[] = []
    const capture: CaptureSink = {write: async (...args) => void writes.push(args)}
    const {report} = await runTrace(settings(service('hello-world')), {cluster: bundle, reader, capture}, {interrupted})
    expect(report.partial?.nodes).toEqual(['node-b'])
    expect(writes).toEqual([])
  })

  it('before the API server answered: InterruptedError, nothing to report; the requests still out are given up', async () => {
    let aborted = 0
    const silent: ClusterSource = {
      description: 'a server that never answers',
      defaultNamespace: async () => 'default',
      load: () => new Promise<ClusterRead>(() => undefined),
      abort: () => void aborted++,
    }
    await expect(runTrace(settings(service('hello-world')), {cluster: silent, reader: bundle}, {interrupted: Promise.resolve()})).rejects.toThrow(
      InterruptedError,
    )
    expect(aborted).toBe(1)
  })
})
