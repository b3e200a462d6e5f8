// Which items of a bundle's List a trace can need, told from the file's bytes. A trace of one Service
// reads its own Service, its EndpointSlices (and the namespace's unlabelled ones, which a check looks
// at) and its Endpoints; a trace of an address reads the Services, slices and Endpoints that hold the
// address, then those of the Services they name. Both read every object of the other kinds (pods: a
// client pod or a near-miss may be anywhere; nodes; kube-proxy's ConfigMap and DaemonSet). Other
// Services and their slices and Endpoints are the bulk of a big cluster's file.
//
// The words are looked for in the whole file (Buffer.indexOf), and each place found is mapped to its
// item: the cost follows the places found, not the items. The choice only ever keeps too much: an item
// is left out only when its kind is known and its bytes cannot spell any of the words.
import {canonicalIP} from '../../core/address.js'
import type {ItemSpan} from './list-items.js'

/** What a trace looks for in the items of the kinds it reads only for the Services it is about. */
export interface ItemWanted {
  /** Names, as whole words (`svc-1` is not in `svc-10`). */
  words: readonly string[]
  /** An IPv4 address (canonical), in any way the API objects may write it (`10.96.0.010`). */
  ipv4?: string
  /** EndpointSlices without the kubernetes.io/service-name label. */
  unlabelledSlices?: boolean
  /** Every ExternalName Service (its target may be the address). */
  externalNames?: boolean
}

/** The kinds a trace reads only for the Services it is about. */
const PER_SERVICE_KINDS = new Set(['Service', 'EndpointSlice', 'Endpoints'])

const SERVICE_NAME_LABEL = Buffer.from('kubernetes.io/service-name')
const EXTERNAL_NAME = Buffer.from('ExternalName')
/** JSON can spell any letter as \uXXXX; YAML's double-quoted strings have more escapes. */
const JSON_ESCAPE = Buffer.from('\\u')
const YAML_ESCAPE = Buffer.from('\\')

/** A byte that can be part of a Kubernetes name or an IPv4 address (or of a longer word around it). */
function isNameByte(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f)
}

const isDigitOrDot = (b: number | undefined) => b !== undefined && ((b >= 0x30 && b <= 0x39) || b === 0x2e)

/** The index of the item holding byte `at`, or -1 (items are in file order and do not overlap). */
function itemAt(items: readonly ItemSpan[], at: number): number {
  let lo = 0
  let hi = items.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (items[mid]!.start <= at) lo = mid + 1
    else hi = mid - 1
  }
  return hi >= 0 && at < items[hi]!.end ? hi : -1
}

/** Every place `needle` occurs in `file`. */
function* places(file: Buffer, needle: Buffer): Generator<number> {
  for (let at = file.indexOf(needle); at >= 0; at = file.indexOf(needle, at + 1)) yield at
}

/** The places where `word` occurs as a whole word. */
function* wordPlaces(file: Buffer, word: Buffer): Generator<number> {
  for (const at of places(file, word)) if (!isNameByte(file[at - 1]) && !isNameByte(file[at + word.length])) yield at
}

/**
 * The places where an IPv4 address that is `ip` is written, leading zeros and all: each place its last
 * octet's digits end a token of digits and dots is read back as an address (the core's own parser).
 */
function* ipv4Places(file: Buffer, ip: string): Generator<number> {
  const last = Buffer.from(ip.slice(ip.lastIndexOf('.') + 1))
  for (const at of places(file, last)) {
    const end = at + last.length
    if (isNameByte(file[end])) continue
    let start = at
    while (isDigitOrDot(file[start - 1])) start--
    if (isNameByte(file[start - 1]) || end - start > 31) continue
    if (canonicalIP(file.toString('latin1', start, end)) === ip) yield start
  }
}

/**
 * The items a trace reads: those of other kinds, those holding a wanted word or address, those `wanted`
 * asks for by kind, and those with an escape (which could spell a word differently: `\u0073vc`).
 * `chosen` (an earlier pass's choice) is added to.
 */
export function chooseItems(file: Buffer, items: readonly ItemSpan[], json: boolean, wanted: ItemWanted, chosen = new Set<number>()): Set<number> {
  const perService = (i: number) => i >= 0 && PER_SERVICE_KINDS.has(items[i]!.kind ?? '')
  for (let i = 0; i < items.length; i++) if (!perService(i)) chosen.add(i)
  const mark = (at: number, kind?: string) => {
    const i = itemAt(items, at)
    if (perService(i) && (kind === undefined || items[i]!.kind === kind)) chosen.add(i)
  }
  for (const at of places(file, json ? JSON_ESCAPE : YAML_ESCAPE)) mark(at)
  for (const word of wanted.words) for (const at of wordPlaces(file, Buffer.from(word))) mark(at)
  if (wanted.ipv4) for (const at of ipv4Places(file, wanted.ipv4)) mark(at)
  if (wanted.externalNames) for (const at of places(file, EXTERNAL_NAME)) mark(at, 'Service')
  if (wanted.unlabelledSlices) {
    const labelled = new Set<number>()
    for (const at of places(file, SERVICE_NAME_LABEL)) labelled.add(itemAt(items, at))
    items.forEach((item, i) => {
      if (item.kind === 'EndpointSlice' && !labelled.has(i)) chosen.add(i)
    })
  }
  return chosen
}
