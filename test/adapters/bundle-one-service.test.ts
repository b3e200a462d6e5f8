// A trace of one Service from a bundle parses only the items it can read: the List's items are found
// in the file's bytes (list-items.ts), those of other Services are skipped (query-items.ts), and the
// report is the same as from the whole file, for every Service of every bundle the tests hold, in
// YAML (both indentations) and in JSON. The same holds when the node's iptables dumps are left in
// place and read chain by chain (core/iptables/dump.ts, from a ByteSource).
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {jsonListItems, yamlListItems} from '../../src/adapters/bundle/list-items.js'
import {chooseItems, type ItemWanted} from '../../src/adapters/bundle/query-items.js'
// @ts-expect-error: the bench's generator is plain JavaScript
import {generateBundle} from '../../bench/generate.js'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {SourceError, type ClusterSource, type NodeReader} from '../../src/app/ports.js'
import {runTrace} from '../../src/app/run-trace.js'
import {canonicalIP, isIP} from '../../src/core/address.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {planCollection} from '../../src/core/collection-plan.js'
import type {ByteSource, ClusterView, Protocol, Query} from '../../src/core/model.js'

const items = (text: string, json: boolean) => {
  const bytes = Buffer.from(text)
  const spans = json ? jsonListItems(bytes) : yamlListItems(bytes)
  return spans?.map((s) => ({kind: s.kind, text: bytes.toString('utf8', s.start, s.end)}))
}

describe('the items of a JSON List, from its bytes', () => {
  it.each([
    [
      'compact',
      '{"kind":"List","items":[{"kind":"Service","a":1},{"kind":"Pod"}]}',
      [
        {kind: 'Service', text: '{"kind":"Service","a":1}'},
        {kind: 'Pod', text: '{"kind":"Pod"}'},
      ],
    ],
    [
      'indented as kubectl writes it',
      '{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "kind": "Node"\n        }\n    ],\n    "kind": "List"\n}\n',
      [{kind: 'Node', text: '{\n            "kind": "Node"\n        }'}],
    ],
    [
      'kind after nested objects, a nested "kind" not taken',
      '{"items":[{"metadata":{"ownerReferences":[{"kind":"Service"}]},"kind":"EndpointSlice"}]}',
      [{kind: 'EndpointSlice', text: '{"metadata":{"ownerReferences":[{"kind":"Service"}]},"kind":"EndpointSlice"}'}],
    ],
    [
      'braces, brackets and escaped quotes inside strings',
      '{"items":[{"a":"}]{[\\"","kind":"Pod"},{"b":"\\\\"}]}',
      [
        {kind: 'Pod', text: '{"a":"}]{[\\"","kind":"Pod"}'},
        {kind: undefined, text: '{"b":"\\\\"}'},
      ],
    ],
    ['a kind with an escape is left unknown', '{"items":[{"kind":"Serv\\u0069ce"}]}', [{kind: undefined, text: '{"kind":"Serv\\u0069ce"}'}]],
    ['an "items" array below the top level is not the List', '{"metadata":{"items":[{"kind":"Pod"}]},"items":[]}', []],
    ['no items', '{"kind":"List","items":[]}', []],
  ])('%s', (_, text, want) => {
    expect(items(text, true)).toEqual(want)
    // What the scanner finds is what JSON.parse finds.
    expect(items(text, true)?.map((i) => JSON.parse(i.text))).toEqual(JSON.parse(text).items)
  })

  it.each([
    ['an array at the top', '[{"kind":"Pod"}]'],
    ['cut short', '{"items":[{"kind":"Pod"},{"kind":"Se'],
    ['an unbalanced bracket', '{"items":[{"kind":"Pod"}}'],
    ['an item that is not an object', '{"items":[{"kind":"Pod"},"x"]}'],
    ['something after the List', '{"items":[]} {}'],
    ['a string that never ends', '{"items":[{"kind":"Pod}]}'],
    ['empty', ''],
  ])('%s: not recognised (the whole file is parsed)', (_, text) => {
    expect(items(text, true)).toBeUndefined()
  })
})

describe('the items of a YAML List, from its lines', () => {
  const kubectl =
    'apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n- kind: Pod\n  spec:\n    containers:\n    - name: c\nkind: List\nmetadata:\n  resourceVersion: ""\n'
  const capture =
    'apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: ""\nitems:\n  - apiVersion: v1\n    kind: "Node"\n    # a comment\n\n    status: {}\n  - kind: Endpoints\n'

  it('items at column 0, as kubectl writes them', () => {
    expect(items(kubectl, false)).toEqual([
      {kind: 'Service', text: '- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n'},
      {kind: 'Pod', text: '- kind: Pod\n  spec:\n    containers:\n    - name: c\n'},
    ])
  })

  it('items indented by two, as --capture writes them', () => {
    expect(items(capture, false)).toEqual([
      {kind: 'Node', text: '  - apiVersion: v1\n    kind: "Node"\n    # a comment\n\n    status: {}\n'},
      {kind: 'Endpoints', text: '  - kind: Endpoints\n'},
    ])
  })

  it.each([
    ['kubectl', kubectl],
    ['capture', capture],
  ])('each item parsed alone is the item of the whole file (%s)', (_, text) => {
    const whole = yaml.load(text) as {items: unknown[]}
    expect(items(text, false)?.map((i) => (yaml.load(i.text) as unknown[])[0])).toEqual(whole.items)
  })

  it.each([
    ['flow style', '{items: [{kind: Pod}]}\n'],
    ['two documents', 'items:\n- kind: Pod\n---\nitems:\n- kind: Pod\n'],
    ['a tab', 'items:\n- kind: Pod\n\tspec: {}\n'],
    ['a line less indented than the fields', 'items:\n  - kind: Pod\n spec: {}\n'],
    ['items: twice', 'items:\n- kind: Pod\nitems:\n- kind: Pod\n'],
    ['no items at all', 'apiVersion: v1\nkind: Service\n'],
  ])('%s: not recognised (the whole file is parsed)', (_, text) => {
    expect(items(text, false)).toBeUndefined()
  })
})

describe('which items a trace reads', () => {
  /** The items of a JSON List of these objects that are chosen. */
  const chosen = (objects: object[], wanted: ItemWanted) => {
    const bytes = Buffer.from(JSON.stringify({kind: 'List', items: objects}))
    const spans = jsonListItems(bytes)!
    return [...chooseItems(bytes, spans, true, wanted)].sort((a, b) => a - b)
  }
  const service = (name: string, more: object = {}) => ({kind: 'Service', metadata: {name, namespace: 'shop'}, ...more})
  const slice = (labels: Record<string, string>, addresses: string[] = []) => ({kind: 'EndpointSlice', metadata: {name: 'x', labels}, endpoints: [{addresses}]})

  it.each([
    ['its Service', [service('web')], {words: ['web']}, [0]],
    ['another Service', [service('api')], {words: ['web']}, []],
    ['a Service whose name only starts with it', [service('web-2')], {words: ['web']}, []],
    ['a Service whose name only ends with it', [service('my.web')], {words: ['web']}, []],
    ['its slice, by label', [slice({'kubernetes.io/service-name': 'web'})], {words: ['web']}, [0]],
    ["another Service's slice", [slice({'kubernetes.io/service-name': 'api'})], {words: ['web']}, []],
    [
      'a slice without the label, when asked for',
      [slice({app: 'x'}), slice({'kubernetes.io/service-name': 'api'})],
      {words: ['web'], unlabelledSlices: true},
      [0],
    ],
    ['its Endpoints', [{kind: 'Endpoints', metadata: {name: 'web'}}], {words: ['web']}, [0]],
    ['an escape that may spell the name', [{kind: 'Service', metadata: {name: 'w\u0065b'}}], {words: ['web']}, [0]],
    ['any pod, node or other kind', [{kind: 'Pod'}, {kind: 'Node'}, {kind: 'ConfigMap'}, {metadata: {}}], {words: ['web']}, [0, 1, 2, 3]],
    [
      'an address, as written',
      [service('a', {spec: {clusterIP: '10.96.0.10'}}), service('b', {spec: {clusterIP: '10.96.0.100'}})],
      {words: [], ipv4: '10.96.0.10'},
      [0],
    ],
    ['an address with leading zeros', [service('a', {spec: {clusterIP: '010.096.000.010'}}), slice({}, ['10.96.0.1'])], {words: [], ipv4: '10.96.0.10'}, [0]],
    ['an address inside a longer one is not it', [slice({}, ['110.96.0.10', '10.96.0.10.5'])], {words: [], ipv4: '10.96.0.10'}, []],
    [
      'ExternalName Services, when asked for',
      [service('a', {spec: {type: 'ExternalName'}}), slice({}, ['ExternalName'])],
      {words: [], externalNames: true},
      [0],
    ],
  ])('%s', (_, objects, wanted, want) => {
    expect(chosen(objects, wanted as ItemWanted)).toEqual(want)
  })
})

// Every bundle the tests hold: a directory with a cluster file and nodes.
const root = path.resolve(__dirname, '../..')
function bundles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    if (!e.isDirectory()) continue
    const d = path.join(dir, e.name)
    if (existsSync(path.join(d, 'cluster.yaml')) && existsSync(path.join(d, 'nodes'))) out.push(d)
    else out.push(...bundles(d))
  }
  return out
}
const dirs = [path.join(root, 'examples/hello-world'), ...bundles(path.join(root, 'test/fixtures'))]

const scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-one-service-'))
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

/** The bundle with its cluster file written another way (JSON, or YAML with items at column 0). */
function rewritten(dir: string, as: 'json' | 'yaml-column-0'): string {
  const out = path.join(scratch, `${path.relative(root, dir).replaceAll('/', '_')}-${as}`)
  cpSync(dir, out, {recursive: true})
  const doc = yaml.load(readFileSync(path.join(dir, 'cluster.yaml'), 'utf8'))
  rmSync(path.join(out, 'cluster.yaml'))
  if (as === 'json') writeFileSync(path.join(out, 'cluster.json'), JSON.stringify(doc, null, 4))
  else writeFileSync(path.join(out, 'cluster.yaml'), yaml.dump(doc, {noRefs: true, noArrayIndent: true, lineWidth: -1}))
  return out
}

/** The same bundle read whole whatever the query, as before. */
const whole = (b: BundleDir): ClusterSource => ({description: b.description, defaultNamespace: () => b.defaultNamespace(), load: () => b.load()})

describe('a trace of one Service from part of the file is the trace from all of it', () => {
  it("reads only the Service's own Service and EndpointSlice of a generated 40-Service bundle", async () => {
    const dir = path.join(scratch, 'generated')
    generateBundle(dir, 40, 3)
    const b = new BundleDir(dir)
    const query: Query = {kind: 'service', service: 'svc-7', namespace: 'bench'}
    const {view} = await b.load(query)
    expect(view.services.map((s) => s.metadata?.name)).toEqual(['svc-7'])
    expect(view.endpointSlices.map((s) => s.metadata?.labels?.['kubernetes.io/service-name'])).toEqual(['svc-7'])
    expect(view.nodes.map((n) => n.metadata?.name)).toEqual(['node-0'])
    expect((await b.load()).view.services).toHaveLength(40)
    const settings = {query, nodes: [], failOn: 'none' as const, ignore: []}
    const part = await runTrace(settings, {cluster: b, reader: b})
    expect(part.report.nodes[0]?.paths[0]?.backends).toHaveLength(3)
    expect(JSON.stringify(part.report)).toBe(JSON.stringify((await runTrace(settings, {cluster: whole(b), reader: b})).report))
  })

  it('a Service that is not in the file gets the usual suggestions (the whole file is read)', async () => {
    const b = new BundleDir(path.join(scratch, 'generated'))
    const query: Query = {kind: 'service', service: 'svc-7', namespace: 'default'}
    await expect(runTrace({query, nodes: [], failOn: 'none', ignore: []}, {cluster: b, reader: b})).rejects.toThrow(
      'a Service named "svc-7" exists in namespace bench (use -n bench)',
    )
  })

  it('finds the bundles', () => {
    expect(dirs.length).toBeGreaterThan(30)
    for (const d of dirs) expect(statSync(d).isDirectory()).toBe(true)
  })

  it.each(dirs.map((d) => [path.relative(root, d), d]))('%s', async (_, dir) => {
    for (const variant of [dir, rewritten(dir, 'json'), rewritten(dir, 'yaml-column-0')]) {
      const b = new BundleDir(variant)
      const services = (await b.load()).view.services
      expect(services.length).toBeGreaterThan(0)
      for (const svc of services) {
        const query: Query = {kind: 'service', service: svc.metadata!.name!, namespace: svc.metadata!.namespace!}
        const settings = {query, nodes: [], failOn: 'none' as const, ignore: []}
        const part = await runTrace(settings, {cluster: b, reader: b})
        const all = await runTrace(settings, {cluster: whole(b), reader: b})
        expect(JSON.stringify(part.report), `${variant} ${query.namespace}/${query.service}`).toBe(JSON.stringify(all.report))
        const read = (await b.load(query)).view.services.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)
        expect(read).toContain(`${query.namespace}/${query.service}`)
      }
    }
  })
})

/** Every address a bundle's objects hold (VIPs with their ports, endpoints, pods, nodes), and one nothing owns. */
function addressesOf(view: ClusterView): Query[] {
  const out = new Map<string, Query>()
  const add = (ip: string | undefined, port?: number, protocol = 'TCP') => {
    if (!ip || !isIP(ip)) return
    const q: Query = {kind: 'ip', ip: canonicalIP(ip), protocol: protocol as Protocol, ...(port !== undefined ? {port} : {})}
    out.set(JSON.stringify(q), q)
  }
  for (const svc of view.services) {
    const p = svc.spec?.ports?.[0]
    for (const ip of [...(svc.spec?.clusterIPs ?? []), ...(svc.spec?.externalIPs ?? []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)]) {
      add(ip)
      add(ip, p?.port, p?.protocol)
      if (p?.nodePort) add(ip, p.nodePort, p.protocol)
    }
  }
  for (const slice of view.endpointSlices) for (const e of slice.endpoints ?? []) for (const a of e.addresses) add(a)
  for (const e of view.endpoints) for (const s of e.subsets ?? []) for (const a of [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]) add(a.ip)
  for (const pod of view.pods) add(pod.status?.podIP)
  for (const node of view.nodes)
    for (const a of node.status?.addresses ?? []) add(a.address, view.services.find((s) => s.spec?.ports?.[0]?.nodePort)?.spec?.ports?.[0]?.nodePort)
  add('203.0.113.77', 80)
  add('127.0.0.1', 30080)
  return [...out.values()]
}

describe('a trace of an address from part of the file is the trace from all of it', () => {
  it.each(dirs.map((d) => [path.relative(root, d), d]))('%s', async (_, dir) => {
    const b = new BundleDir(dir)
    const queries = addressesOf((await b.load()).view)
    expect(queries.length).toBeGreaterThan(2)
    for (const query of queries) {
      const settings = {query, nodes: [], failOn: 'none' as const, ignore: []}
      const part = await runTrace(settings, {cluster: b, reader: b})
      const all = await runTrace(settings, {cluster: whole(b), reader: b})
      expect(JSON.stringify(part.report), `${dir} ${JSON.stringify(query)}`).toBe(JSON.stringify(all.report))
    }
  })

  it('reads only the Service that owns a cluster IP, and its slice, in a generated 40-Service bundle', async () => {
    const b = new BundleDir(path.join(scratch, 'generated'))
    const svc = (await b.load()).view.services.find((s) => s.metadata?.name === 'svc-12')!
    const {view} = await b.load({kind: 'ip', ip: svc.spec!.clusterIP!, port: 80, protocol: 'TCP'})
    expect(view.services.map((s) => s.metadata?.name)).toEqual(['svc-12'])
    expect(view.endpointSlices.map((s) => s.metadata?.labels?.['kubernetes.io/service-name'])).toEqual(['svc-12'])
  })
})

describe('a trace that reads the dumps in place is the trace from the whole dumps', () => {
  it('leaves the big iptables dumps in place for one Service, an address and every Service', async () => {
    const b = new BundleDir(path.join(root, 'examples/hello-world'), {readInPlaceFrom: 0})
    const {view} = await b.load()
    const [node] = await b.nodeNames()
    const kinds = async (query: Query) => {
      const dp = await b.read(node!, planCollection(indexCluster(view), query))
      return dp.captures.map((c) => `${c.kind}: ${typeof c.text === 'string' ? 'text' : c.text instanceof Uint8Array ? 'bytes' : 'in place'}`)
    }
    const svc = view.services[0]!
    expect(await kinds({kind: 'service', service: svc.metadata!.name!, namespace: svc.metadata!.namespace!})).toContain('iptables-save: in place')
    expect(await kinds({kind: 'ip', ip: svc.spec!.clusterIP!, protocol: 'TCP'})).toContain('iptables-save: in place')
    expect(await kinds({kind: 'all'})).toContain('iptables-save: in place')
    expect(await kinds({kind: 'all', namespace: svc.metadata!.namespace!})).toContain('iptables-save: in place')
    // Below the size limit a dump is read whole.
    const small = new BundleDir(path.join(root, 'examples/hello-world'))
    const plan = planCollection(indexCluster(view), {kind: 'all'})
    expect((await small.read(node!, plan)).captures.map((c) => c.kind === 'iptables-save' && c.text instanceof Uint8Array)).toContain(true)
  })

  it.each(dirs.map((d) => [path.relative(root, d), d]))('%s', async (_, dir) => {
    const inPlace = new BundleDir(dir, {readInPlaceFrom: 0})
    const held = new BundleDir(dir)
    const {view} = await held.load()
    const queries: Query[] = [
      ...view.services.map((s): Query => ({kind: 'service', service: s.metadata!.name!, namespace: s.metadata!.namespace!})),
      ...addressesOf(view),
      {kind: 'all'},
    ]
    for (const query of queries) {
      const settings = {query, nodes: [], failOn: 'none' as const, ignore: []}
      const read = await runTrace(settings, {cluster: inPlace, reader: inPlace})
      const all = await runTrace(settings, {cluster: held, reader: held})
      expect(JSON.stringify(read.report), `${dir} ${JSON.stringify(query)}`).toBe(JSON.stringify(all.report))
    }
  })
})

describe('a dump read in place that changes under the trace', () => {
  /** The file's bytes until they have all been read once (the index), then the same bytes one place later. */
  const changing = (bytes: Uint8Array): ByteSource => {
    const later = new Uint8Array([0x23, ...bytes])
    let served = 0
    return {
      size: bytes.length,
      read(into, position) {
        const from = served >= bytes.length ? later : bytes
        const part = from.subarray(position, position + into.length)
        into.set(part)
        served += part.length
        return part.length
      },
    }
  }

  it.each(['one Service', 'every Service (-A)'])('ends the run with an error that names the file and says to run again, not as a bug: %s', async (what) => {
    const b = new BundleDir(path.join(root, 'examples/hello-world'), {readInPlaceFrom: 0})
    const reader: NodeReader = {
      nodeNames: () => b.nodeNames(),
      async read(node, plan) {
        const dp = await b.read(node, plan)
        return {...dp, captures: dp.captures.map((c) => (c.kind === 'iptables-save' ? {...c, text: changing(readFileSync(c.source))} : c))}
      },
    }
    const svc = (await b.load()).view.services.find((s) => s.spec?.clusterIP && s.spec.clusterIP !== 'None')!
    const query: Query = what === 'one Service' ? {kind: 'service', service: svc.metadata!.name!, namespace: svc.metadata!.namespace!} : {kind: 'all'}
    const run = runTrace({query, nodes: [], failOn: 'none', ignore: []}, {cluster: b, reader})
    await expect(run).rejects.toThrow(SourceError)
    await expect(run).rejects.toThrow(/nodes\/[^/]+\/iptables-save\.txt:\d+: the file changed while it was being read; run the trace again/)
  })
})
