// What is equal is printed once: nodes whose paths are the same form one block, a destination
// reached the same way from several kinds of client is one row, and every distinct backend list is
// listed once and referred to by a label. Equality is on the typed paths, never on printed text.
import {isLoopback} from '../core/address.js'
import type {Alternative, Backend, NodeReport, SourceKind, TracePath} from '../core/model.js'

/** Paths of one block that differ only in the client kind. */
export interface MergedRow {
  /** The first path: entry, verdict, backends and notes are the same for every kind in `from`. */
  path: TracePath
  from: SourceKind[]
  /** The explicit client address (--source), when one was traced. */
  source?: string
  /** True when the entry is the node's own address (a node port): printed as `node IP` in a block of several nodes. */
  ownNodeAddress: boolean
}

/** Nodes that read and trace alike. */
export interface NodeBlock {
  nodes: string[]
  mode: NodeReport['mode']
  readError?: string
  rows: MergedRow[]
}

// Counters are each node's own: nodes with different counts are shown apart.
const backendKey = (b: Backend) =>
  `${b.ip}|${b.port}|${Math.round(b.probability * 1e6)}|${b.weight ?? ''}|${b.counters ? `${b.counters.connections ?? ''}:${b.counters.packets}:${b.counters.bytes}` : ''}`

/** A key for a backend list: same pods, same ports, same shares. */
export function backendsKey(backends: Backend[]): string {
  return backends.map(backendKey).sort().join(',')
}

const alternativeKey = (a: Alternative) => `${a.verdict}:${a.when.join('&')}:${backendsKey(a.backends)}`

/** Everything a compact row shows of a path but the client kind and address. */
export function outcomeKey(p: TracePath): string {
  return [
    p.verdict,
    backendsKey(p.backends),
    p.alternatives.map(alternativeKey).join(';'),
    JSON.stringify(p.notes),
    p.affinity?.timeoutSeconds ?? '',
    p.uncertain,
  ].join('#')
}

/** A node port on the node's own address: the address differs per node, the path does not. */
export function isOwnNodeAddress(p: TracePath): boolean {
  return p.entry.kind === 'node-port' && !isLoopback(p.entry.destination.ip)
}

/** A key for a path's entry: a node port on the node's own address is the same entry on every node. */
export function entryKey(p: TracePath): string {
  const d = p.entry.destination
  return `${p.entry.kind}|${isOwnNodeAddress(p) ? 'node' : d.ip}|${d.port ?? ''}|${d.protocol}|${p.entry.service ?? ''}`
}

/** One node's paths, with the rows of the same entry and the same outcome joined. */
export function mergeRows(paths: TracePath[]): MergedRow[] {
  const rows = new Map<string, MergedRow>()
  for (const p of paths) {
    const key = `${entryKey(p)}#${outcomeKey(p)}`
    const row = rows.get(key)
    if (row && !row.from.includes(p.from)) row.from.push(p.from)
    else if (!row) rows.set(key, {path: p, from: [p.from], ...(p.source !== undefined ? {source: p.source} : {}), ownNodeAddress: isOwnNodeAddress(p)})
  }
  return [...rows.values()]
}

/** Groups nodes whose merged rows are equal, in the order the nodes came. */
export function mergeNodes(nodes: NodeReport[]): NodeBlock[] {
  const blocks = new Map<string, NodeBlock>()
  for (const node of nodes) {
    const rows = mergeRows(node.paths)
    const key = [node.mode, node.readError ?? '', ...rows.map((r) => `${entryKey(r.path)}#${outcomeKey(r.path)}#${r.from.join(',')}`)].join('\n')
    const block = blocks.get(key)
    if (block) block.nodes.push(node.name)
    else blocks.set(key, {nodes: [node.name], mode: node.mode, ...(node.readError !== undefined ? {readError: node.readError} : {}), rows})
  }
  return [...blocks.values()]
}

/** Each distinct non-empty backend list of the blocks, in order of appearance. */
export function backendLists(blocks: NodeBlock[]): Backend[][] {
  const lists = new Map<string, Backend[]>()
  for (const block of blocks) {
    for (const {path} of block.rows) {
      for (const backends of [path.backends, ...path.alternatives.map((a) => a.backends)]) {
        const key = backendsKey(backends)
        if (backends.length > 0 && !lists.has(key)) lists.set(key, backends)
      }
    }
  }
  return [...lists.values()]
}
