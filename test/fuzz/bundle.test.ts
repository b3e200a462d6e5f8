// Property tests of the bundle directory loader and of the whole pure pipeline behind it: a damaged
// cluster.yaml or node dump, and any destination, give a report (or the loader's SourceError naming
// the file), never an exception of another kind.
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {afterAll, describe, expect, it} from 'vitest'
import yaml from 'js-yaml'
import {parseClusterFile, partialView} from '../../src/adapters/bundle/cluster-file.js'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {SourceError} from '../../src/app/ports.js'
import type {ClusterView, NodeDataplane, Query, Report} from '../../src/core/model.js'
import {buildReport, QueryError} from '../../src/core/report.js'
import {allBytes} from '../../src/core/captures.js'
import {expectReadable} from './support/check.js'
import {address} from './support/destinations.js'
import {CLUSTER_YAML, IPSET, IPTABLES, IPVSADM_SAVE, NFT_JSON} from './support/fixtures.js'
import {iptablesDump, iptablesMutations} from './support/iptables-gen.js'
import {mutated} from './support/mutate.js'
import {nftText} from './support/nft-gen.js'
import {settings} from './support/runs.js'

const example = parseClusterFile(CLUSTER_YAML[0] ?? '', 'cluster.yaml')
const names = example.services.map((s) => s.metadata?.name ?? '')

const query: fc.Arbitrary<Query> = fc.oneof(
  fc
    .record({
      kind: fc.constant('ip' as const),
      ip: address,
      port: fc.option(fc.integer({min: 1, max: 65535}), {nil: undefined}),
      protocol: fc.constantFrom('TCP' as const, 'UDP' as const),
    })
    .map(({port, ...q}) => ({...q, ...(port !== undefined ? {port} : {})})),
  fc.record({kind: fc.constant('service' as const), service: fc.constantFrom(...names, 'nope'), namespace: fc.constantFrom('default', 'shop', 'kube-system')}),
  fc.record({kind: fc.constant('all' as const)}),
)

/** One node's captures: iptables (generated or a real one damaged), maybe nft or IPVS ones. */
const node: fc.Arbitrary<NodeDataplane> = fc
  .record({
    name: fc.constantFrom('node-a', 'node-b', 'kind-worker'),
    iptables: fc.option(
      fc.oneof(
        iptablesDump.map((d) => d.text),
        mutated(IPTABLES, iptablesMutations).map((m) => m.text),
      ),
      {nil: undefined},
    ),
    nft: fc.option(
      fc.oneof(
        nftText,
        mutated(NFT_JSON).map((m) => m.text),
      ),
      {nil: undefined},
    ),
    ipvs: fc.option(fc.tuple(mutated(IPVSADM_SAVE), mutated(IPSET)), {nil: undefined}),
  })
  .map(({name, iptables, nft, ipvs}) => ({
    name,
    captures: [
      ...(iptables !== undefined ? [{kind: 'iptables-save' as const, text: iptables, source: `nodes/${name}/iptables-save.txt`}] : []),
      ...(nft !== undefined ? [{kind: 'nft' as const, text: nft, source: `nodes/${name}/nft.json`}] : []),
      ...(ipvs
        ? [
            {kind: 'ipvsadm' as const, text: ipvs[0].text, source: `nodes/${name}/ipvsadm.txt`},
            {kind: 'ipset' as const, text: ipvs[1].text, source: `nodes/${name}/ipset.txt`},
          ]
        : []),
    ],
  }))

/** The report, or undefined when a Service query names no Service (QueryError, exit 2: a clean refusal). */
function report(q: Query, view: ClusterView, planes: NodeDataplane[]): Report | undefined {
  try {
    return buildReport(q, view, planes)
  } catch (err) {
    if (!(err instanceof QueryError) || q.kind !== 'service') throw err
    expectReadable(err.message)
    return undefined
  }
}

/** The API objects of a damaged cluster.yaml, or undefined when the loader refused it naming the file. */
function viewOf(text: string, file: string): ClusterView | undefined {
  try {
    return parseClusterFile(text, file)
  } catch (err) {
    if (!(err instanceof SourceError)) throw err
    expect(err.message).toContain(file)
    return undefined
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-fuzz-bundle-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('bundle loader and report pipeline, fuzzed', () => {
  it('random dumps and destinations through the whole pure pipeline (report builder) never throw', () => {
    fc.assert(
      fc.property(query, fc.array(node, {maxLength: 3}), (q, planes) => {
        const r = report(q, example, planes)
        if (r) expect(r.nodes.length).toBe(planes.length)
      }),
      settings(),
    )
  })

  it('a damaged cluster.yaml loads or is refused naming the file; what loads reports without throwing', () => {
    fc.assert(
      fc.property(mutated(CLUSTER_YAML), query, node, ({text}, q, plane) => {
        const view = viewOf(text, 'cluster.yaml')
        if (view) report(q, view, [plane])
      }),
      settings(),
    )
  })

  it('a bundle directory with damaged files reads: cluster.yaml or a SourceError naming it, every node a dataplane or a read error', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(mutated(CLUSTER_YAML), node, fc.constantFrom('cluster.yaml', 'cluster.json', 'cluster.yml'), async ({text}, plane, clusterFile) => {
        const root = path.join(dir, String(run++))
        mkdirSync(path.join(root, 'nodes', plane.name), {recursive: true})
        writeFileSync(path.join(root, clusterFile), text)
        for (const c of plane.captures)
          writeFileSync(path.join(root, c.source), typeof c.text === 'string' || c.text instanceof Uint8Array ? c.text : allBytes(c.text), 'latin1')
        const bundle = new BundleDir(root)
        try {
          const {view} = await bundle.load()
          const planes = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))
          report({kind: 'all'}, view, planes)
        } catch (err) {
          if (!(err instanceof SourceError)) throw err
          expect(err.message).toContain(root)
        } finally {
          rmSync(root, {recursive: true, force: true})
        }
      }),
      settings(),
    )
  })

  it("a damaged cluster file read for one Service or address: a SourceError naming it, or a view whose report is the whole file's", () => {
    fc.assert(
      fc.property(mutated(CLUSTER_YAML), query, fc.boolean(), ({text}, q, asJson) => {
        // The JSON twin of a damaged YAML file that still parses; the damaged YAML itself otherwise.
        const whole = viewOf(text, 'cluster.yaml')
        const json = asJson && whole !== undefined
        const file = json ? 'cluster.json' : 'cluster.yaml'
        const bytes = Buffer.from(json ? JSON.stringify(yaml.load(text, {schema: yaml.CORE_SCHEMA}), null, 2) : text)
        let part: ClusterView | undefined
        try {
          part = partialView(bytes, file, q)
        } catch (err) {
          if (!(err instanceof SourceError)) throw err
          expect(err.message).toContain(file)
          return
        }
        // Only what the whole file holds, and for a file that reads whole, the same answer.
        if (!part || !whole) return
        const all = parseClusterFile(bytes.toString('utf8'), file)
        expect(JSON.stringify(report(q, part, []))).toBe(JSON.stringify(report(q, all, [])))
      }),
      settings(),
    )
  })
})
