// Names no one would choose but a cluster (or a bundle) can hold: each tries to break out of a DOT
// or Mermaid label, or to drive a terminal or reorder what a reader sees.
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {runTrace} from '../../src/app/run-trace.js'
import type {Backend, Query, Report} from '../../src/core/model.js'
import {example} from './cli.js'

/** One hostile string per trick. */
export const HOSTILE = [
  'dot"]; n1 -> n2 [label="injected',
  'back\\"slash\\N\\G\\l',
  'new\nline\rreturn\ttab',
  'bell\u0007esc\u001b[31mred\u009bcsi',
  'bidi\u202eoverride\u2066isolate\u200fmark',
  'mermaid"] --> evil["x',
  'end',
  'subgraph s1["sub"]',
  ']] }} )) #quot; #34; <br> `md` %%{init: {}}%%',
  '<script>alert(1)</script>&amp;',
]

/** What every Service's name starts with. */
const SERVICE_PREFIX = `${HOSTILE[5]}${HOSTILE[7]}`

/** The example bundle's trace of `query`, with every pod, node, Service and finding text replaced by hostile strings. */
export async function hostileReport(query: Query): Promise<Report> {
  const bundle = new BundleDir(example)
  const {report} = await runTrace({query, nodes: [], failOn: 'error', ignore: []}, {cluster: bundle, reader: bundle})
  const pods = new Map<string, string>()
  const hostile = (pod: string) => {
    // Two hostile strings per pod: the example's five pods carry all ten.
    const i = pods.size * 2
    if (!pods.has(pod)) pods.set(pod, `default/${HOSTILE[i % HOSTILE.length]}${HOSTILE[(i + 1) % HOSTILE.length]}${pods.size}`)
    return pods.get(pod) as string
  }
  const nodeName = (name: string | null) => (name === null ? null : `${HOSTILE[4]}${name}`)
  // `namespace/name` → `namespace/HOSTILEname`, the same for a Service everywhere it is named.
  const service = (key: string) => key.replace('/', `/${SERVICE_PREFIX}`)
  const backend = (b: Backend): Backend => ({...b, pod: b.pod && hostile(b.pod), node: nodeName(b.node), chain: `${b.chain}${HOSTILE[1]}`})
  return {
    ...report,
    services: report.services.map((s) => ({...s, name: `${SERVICE_PREFIX}${s.name}`})),
    nodes: report.nodes.map((n) => ({
      ...n,
      name: nodeName(n.name) as string,
      paths: n.paths.map((p) => ({
        ...p,
        entry: {...p.entry, ...(p.entry.service ? {service: service(p.entry.service)} : {})},
        hops: p.hops.map((h) => ({...h, rule: `${h.rule} -m comment --comment "${HOSTILE[0]}"`})),
        backends: p.backends.map(backend),
        alternatives: p.alternatives.map((a) => ({...a, backends: a.backends.map(backend)})),
      })),
    })),
    findings: report.findings.map((f, i) => ({
      ...f,
      message: `${f.message} ${HOSTILE[i % HOSTILE.length]}`,
      ...(f.service ? {service: service(f.service)} : {}),
    })),
  }
}
