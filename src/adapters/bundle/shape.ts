// The lists of a bundle's API objects the core walks (a Service's ports, a slice's endpoints and
// their addresses, …): the API server always sends lists there, a hand-edited or cut cluster.yaml
// may not, and the core would fail on the first one with a TypeError. Checked once, where the file is read.
import {SourceError} from '../../app/ports.js'

/** What a list must hold: objects (`- port: 80`) or strings (`- 10.96.0.10`). */
type Holds = 'objects' | 'strings'

/** Per kind, the list-valued fields; `a[].b` is field b of every element of list a. */
const LISTS: Record<string, Array<[string, Holds]>> = {
  Service: [
    ['spec.ports', 'objects'],
    ['spec.clusterIPs', 'strings'],
    ['spec.externalIPs', 'strings'],
    ['spec.ipFamilies', 'strings'],
    ['spec.loadBalancerSourceRanges', 'strings'],
    ['status.loadBalancer.ingress', 'objects'],
  ],
  EndpointSlice: [
    ['endpoints', 'objects'],
    ['endpoints[].addresses', 'strings'],
    ['ports', 'objects'],
  ],
  Endpoints: [
    ['subsets', 'objects'],
    ['subsets[].addresses', 'objects'],
    ['subsets[].notReadyAddresses', 'objects'],
    ['subsets[].ports', 'objects'],
  ],
  Pod: [
    ['spec.containers', 'objects'],
    ['spec.containers[].ports', 'objects'],
    ['status.podIPs', 'objects'],
    ['status.conditions', 'objects'],
    ['status.containerStatuses', 'objects'],
  ],
  Node: [
    ['spec.podCIDRs', 'strings'],
    ['status.addresses', 'objects'],
    ['status.conditions', 'objects'],
  ],
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** LISTS with each path split once: steps of [key, every element?]. */
const STEPS: Record<string, Array<{steps: Array<[string, boolean]>; holds: Holds}>> = Object.fromEntries(
  Object.entries(LISTS).map(([kind, lists]) => [
    kind,
    lists.map(([path, holds]) => ({holds, steps: path.split('.').map((h): [string, boolean] => (h.endsWith('[]') ? [h.slice(0, -2), true] : [h, false]))})),
  ]),
)

/**
 * Where on `steps` a present field is not a list of `holds` (`spec.ports`, `endpoints[3].addresses`);
 * undefined when all are. Runs once per item of a 10,000-Service bundle: no text is made unless one is wrong.
 */
function badList(value: unknown, steps: Array<[string, boolean]>, holds: Holds, from = 0): string | undefined {
  const step = steps[from]
  if (step === undefined || !isObject(value)) return undefined
  const [key, each] = step
  const v = value[key]
  if (v === undefined || v === null) return undefined
  if (from === steps.length - 1) {
    if (!Array.isArray(v)) return key
    for (const x of v) if (holds === 'objects' ? !isObject(x) : typeof x !== 'string') return key
    return undefined
  }
  if (!each) {
    const bad = badList(v, steps, holds, from + 1)
    return bad === undefined ? undefined : `${key}.${bad}`
  }
  if (!Array.isArray(v)) return key
  for (let i = 0; i < v.length; i++) {
    const bad = badList(v[i], steps, holds, from + 1)
    if (bad !== undefined) return `${key}[${i}].${bad}`
  }
  return undefined
}

/** Throws a SourceError naming the item and field when one of the lists the core walks is not a list of what it should hold. */
export function checkListShapes(item: {kind?: unknown; metadata?: {name?: unknown; namespace?: unknown}}, where: string, makeIt: string): void {
  for (const {steps, holds} of STEPS[String(item.kind)] ?? []) {
    const bad = badList(item, steps, holds)
    if (!bad) continue
    const name = [item.metadata?.namespace, item.metadata?.name].filter((x) => typeof x === 'string').join('/')
    throw new SourceError(
      `${where} (${String(item.kind)}${name ? ` ${name}` : ''}): ${bad} is not a list of ${holds === 'objects' ? 'entries' : 'strings'} as the API writes it; was the file edited or cut? ${makeIt}`,
    )
  }
}
