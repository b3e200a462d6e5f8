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

/** The first field on `path` that is present but not a list of `holds`, as a dotted path; undefined when all are. */
function badList(value: unknown, path: string[], holds: Holds, at: string): string | undefined {
  const [head, ...rest] = path
  if (head === undefined || !isObject(value)) return undefined
  const each = head.endsWith('[]')
  const key = each ? head.slice(0, -2) : head
  const v = value[key]
  const here = at ? `${at}.${key}` : key
  if (v === undefined || v === null) return undefined
  if (rest.length === 0) {
    const ok = Array.isArray(v) && v.every((x) => (holds === 'objects' ? isObject(x) : typeof x === 'string'))
    return ok ? undefined : here
  }
  if (!each) return badList(v, rest, holds, here)
  if (!Array.isArray(v)) return here
  for (const [i, x] of v.entries()) {
    const bad = badList(x, rest, holds, `${here}[${i}]`)
    if (bad) return bad
  }
  return undefined
}

/** Throws a SourceError naming the item and field when one of the lists the core walks is not a list of what it should hold. */
export function checkListShapes(item: {kind?: unknown; metadata?: {name?: unknown; namespace?: unknown}}, where: string, makeIt: string): void {
  for (const [path, holds] of LISTS[String(item.kind)] ?? []) {
    const bad = badList(item, path.split('.'), holds, '')
    if (!bad) continue
    const name = [item.metadata?.namespace, item.metadata?.name].filter((x) => typeof x === 'string').join('/')
    throw new SourceError(
      `${where} (${String(item.kind)}${name ? ` ${name}` : ''}): ${bad} is not a list of ${holds === 'objects' ? 'entries' : 'strings'} as the API writes it; was the file edited or cut? ${makeIt}`,
    )
  }
}
