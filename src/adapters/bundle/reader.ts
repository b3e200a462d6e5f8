// A bundle directory as ClusterSource and NodeReader: the offline input, and the test fake. The files
// and where each goes are bundle/layout.ts, shared with the writer.
import {isAscii} from 'node:buffer'
import {close, closeSync, openSync, read, readdirSync, readFileSync, readSync, statSync} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'
import {SourceError, type ClusterRead, type ClusterSource, type NodeReader} from '../../app/ports.js'
import type {ByteSource, CaptureKind, ClusterView, NodeDataplane, Query} from '../../core/model.js'
import {countKubeProxyRules} from '../../core/kube-proxy/other-backend.js'
import {MAKE_IT, parseClusterFile, partialView} from './cluster-file.js'
import {CLUSTER_FILES, CONNTRACK_FILE, NODE_CAPTURES, NODES_DIR, OTHER_BACKEND_FILES, READ_ERROR_FILE} from './layout.js'
import {captureOf, unreadableNode} from '../../core/captures.js'
import type {CollectionPlan} from '../../core/collection-plan.js'

/** The most a node file may hold: a 10,000-Service node dumps ~48 MB. */
export const MAX_NODE_FILE_BYTES = 256 * 1024 * 1024

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code
}

/** What a bundle is, and the two ways to make one. */
const WHAT_A_BUNDLE_IS = (dir: string) =>
  `a bundle is a directory holding cluster.yaml and nodes/NODE/iptables-save.txt: make one from a live cluster with kubectl svctrace -A --via ssh --capture ${dir}, or by hand as the README's "Bundle directory" says`

/**
 * The whole file in as few reads as the kernel allows (one, from the page cache), opened now and its
 * read handed to libuv's pool at once: it goes on while the main thread reads and parses cluster.json
 * (readFile reads 512 KiB at a time and, like any async open, needs the main thread between steps, so
 * it would stall behind the parse). Throws at once when the file cannot be opened.
 */
function readAhead(file: string, size: number): Promise<Buffer> {
  const fd = openSync(file, 'r')
  const bytes = Buffer.allocUnsafe(size)
  return new Promise((resolve, reject) => {
    let got = 0
    const done = (err: Error | null) => {
      close(fd, () => undefined)
      // A file that shrank since stat is read as it is now.
      if (err) reject(err)
      else resolve(got < size ? bytes.subarray(0, got) : bytes)
    }
    const next = () =>
      read(fd, bytes, got, size - got, got, (err, n) => {
        if (err) return done(err)
        got += n
        if (n === 0 || got >= size) return done(null)
        next()
      })
    next()
  })
}

/**
 * iptables dumps from this size on are left where they lie and read in pieces (indexed through one
 * small buffer, then each chain as a trace walks it, into an array let go with the chain): reading
 * 48 MB into fresh memory costs more than the trace itself on some machines (every page faulted in),
 * and one Service's trace looks at a few dozen chains of it. Checking every Service reads every chain
 * once, about 110,000 reads of a few hundred bytes at 10,000 Services (0.2-0.3 s), and holds a few
 * Services' chains at a time instead of the whole dump.
 */
const READ_IN_PLACE_FROM = 8 * 1024 * 1024

/** The captures a trace reads chain by chain (core/iptables/dump.ts): the rest are parsed whole. */
const READ_BY_CHAIN: ReadonlySet<CaptureKind> = new Set(['iptables-save', 'ip6tables-save'])

/**
 * The file as a ByteSource. The first read opens it, and it is closed when the event loop next turns:
 * a trace reads chain after chain without yielding (every Service's, in check mode: one open, not one
 * per chain), and nothing is left open once the run is done.
 */
function fileSource(file: string, size: number): ByteSource {
  let fd: number | undefined
  const close = () => {
    if (fd === undefined) return
    closeSync(fd)
    fd = undefined
  }
  return {
    size,
    read(into, position) {
      if (fd === undefined) {
        fd = openSync(file, 'r')
        setImmediate(close).unref()
      }
      let got = 0
      while (got < into.length) {
        const n = readSync(fd, into, got, into.length - got, position + got)
        if (n === 0) break
        got += n
      }
      return got
    },
  }
}

/** Only whitespace (or nothing): stops at the first other byte, so a big dump costs nothing. */
function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 32 && b !== 9 && b !== 10 && b !== 13) return false
  return true
}

/** Node dumps are ASCII almost always; decoding them as Latin-1 then skips UTF-8 validation. */
function decode(bytes: Buffer): string {
  return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8')
}

export class BundleDir implements ClusterSource, NodeReader {
  readonly description: string
  readonly noNodes = 'bundle-without-nodes'

  /** iptables dumps from this size on are read in place for a trace of one Service or address (tests set 0). */
  private readonly readInPlaceFrom: number

  constructor(
    readonly dir: string,
    opts: {readInPlaceFrom?: number} = {},
  ) {
    this.description = `bundle ${dir}`
    this.readInPlaceFrom = opts.readInPlaceFrom ?? READ_IN_PLACE_FROM
  }

  async defaultNamespace(): Promise<string> {
    return 'default'
  }

  async load(query?: Query): Promise<ClusterRead> {
    return {view: await this.loadView(query), denied: []}
  }

  private async loadView(query: Query | undefined): Promise<ClusterView> {
    try {
      const s = await stat(this.dir)
      if (!s.isDirectory()) throw new SourceError(`--from ${this.dir}: not a directory; ${WHAT_A_BUNDLE_IS('DIR')}`)
    } catch (err) {
      if (err instanceof SourceError) throw err
      throw new SourceError(`--from ${this.dir}: no such directory; ${WHAT_A_BUNDLE_IS(this.dir)}`)
    }
    for (const name of CLUSTER_FILES) {
      const file = path.join(this.dir, name)
      // One Service or address: only the items its trace can read, found in the bytes. Else the whole
      // file, read straight into text (one read and decode in C++, readFileSync's UTF-8 path): no Buffer of
      // it is left waiting for a major GC beside the text and what it parses into (-A on 10,000 Services
      // with 100,000 pods: 55 MB of peak RSS).
      const partial = query !== undefined && query.kind !== 'all'
      let content: Buffer | string
      try {
        content = partial ? await readFile(file) : readFileSync(file, 'utf8')
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue
        throw new SourceError(`${file}: cannot read (${(err as Error).message})`)
      }
      if (typeof content === 'string') return parseClusterFile(content, file)
      return (query && partialView(content, file, query)) || parseClusterFile(content.toString('utf8'), file)
    }
    throw new SourceError(`${path.join(this.dir, 'cluster.yaml')} not found: a bundle needs the API objects; ${MAKE_IT}`)
  }

  async nodeNames(): Promise<string[]> {
    try {
      return this.nodeNamesNow()
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return []
      throw new SourceError(`${path.join(this.dir, NODES_DIR)}: cannot list (${(err as Error).message})`)
    }
  }

  /** The node directories, sorted; throws as readdir does. */
  private nodeNamesNow(): string[] {
    return readdirSync(path.join(this.dir, NODES_DIR), {withFileTypes: true})
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
  }

  /** Node files being read ahead (prefetch), by path; read() takes each once, and then they are `taken`. */
  private readonly ahead = new Map<string, Promise<Buffer>>()
  private readonly taken = new Set<string>()

  /**
   * Reads the nodes' files while cluster.json is parsed (JSON.parse holds the main thread; the file reads
   * run on libuv's pool meanwhile). A file over the size limit or missing is left to read() to report,
   * and a big iptables dump to be read in place.
   */
  prefetch(only: readonly string[]): void {
    // Synchronous up to each read's start (a directory listing, a stat and an open per file: well under
    // a millisecond each), so every read is under way before loadView holds the main thread.
    let nodes: readonly string[]
    try {
      nodes = only.length > 0 ? only : this.nodeNamesNow()
    } catch {
      return
    }
    for (const node of nodes) {
      // --nodes names are checked against the bundle after the API read: read ahead only plain names.
      if (node.includes('/') || node.startsWith('.')) continue
      for (const c of NODE_CAPTURES) {
        for (const name of c.files) {
          const file = path.join(this.dir, NODES_DIR, node, name)
          if (this.taken.has(file) || this.ahead.has(file)) continue
          let bytes: Promise<Buffer>
          try {
            const size = statSync(file).size
            if (size > MAX_NODE_FILE_BYTES || this.readsInPlace(c.capture, size)) continue
            bytes = readAhead(file, size)
          } catch {
            continue
          }
          bytes.catch(() => undefined)
          this.ahead.set(file, bytes)
        }
      }
    }
  }

  /** Whether a capture of this kind and size is left in place (read chain by chain), not read whole. */
  private readsInPlace(kind: CaptureKind, size: number): boolean {
    return READ_BY_CHAIN.has(kind) && size >= this.readInPlaceFrom
  }

  /** Marks the file as read by read(): prefetch will not read it again; returns its read ahead, if any. */
  private take(file: string): Promise<Buffer> | undefined {
    const ahead = this.ahead.get(file)
    this.ahead.delete(file)
    this.taken.add(file)
    return ahead
  }

  /** The file's bytes: read ahead if prefetch got to it, else now. */
  private async bytesOf(file: string): Promise<Buffer> {
    return (await this.take(file)?.catch(() => undefined)) ?? readFile(file)
  }

  async read(node: string, plan?: CollectionPlan): Promise<NodeDataplane> {
    const dir = path.join(this.dir, NODES_DIR, node)
    const failed = await this.readError(dir)
    if (failed !== undefined) return unreadableNode(node, failed)
    const out: NodeDataplane = {name: node, captures: []}
    for (const c of NODE_CAPTURES) {
      // nft.json and nft.txt fill the same field: the first found (the JSON) wins.
      for (const name of c.files) {
        const file = path.join(dir, name)
        try {
          const s = await stat(file)
          if (s.size > MAX_NODE_FILE_BYTES) {
            return unreadableNode(
              node,
              `${file} is ${Math.round(s.size / 2 ** 20)} MiB, over the ${MAX_NODE_FILE_BYTES / 2 ** 20} MiB a node may return; ${c.tooBig}`,
            )
          }
          if (plan && this.readsInPlace(c.capture, s.size)) {
            // A read ahead of it (started before the plan was known) is dropped; its failure is already caught.
            void this.take(file)
            out.captures.push({kind: c.capture, text: fileSource(file, s.size), source: file})
            break
          }
          // Kept as bytes: the iptables dumps are indexed without decoding them (captureText decodes the rest).
          const bytes = await this.bytesOf(file)
          if (c.madeBy && isBlank(bytes)) {
            return unreadableNode(
              node,
              `${file} is empty: ${c.madeBy.split(' ')[0]} printed nothing when the bundle was made, or its output went elsewhere; make it again on ${node} as root with: ${c.madeBy} (the file should hold kube-proxy's KUBE- chains)`,
            )
          }
          out.captures.push({kind: c.capture, text: bytes, source: file})
          break
        } catch (err) {
          if (errnoOf(err) === 'ENOENT') continue
          return unreadableNode(node, `${file}: cannot read (${(err as Error).message})`)
        }
      }
    }
    const other = await this.otherBackend(dir)
    if ('readError' in other) return unreadableNode(node, other.readError)
    if (other.found) out.otherIptablesBackend = other.found
    if (plan?.conntrack && !captureOf(out, 'conntrack')) {
      out.conntrackError = `${path.join(dir, CONNTRACK_FILE)} not found: capture it on the node with: conntrack -L > ${CONNTRACK_FILE} (or --capture with --conntrack)`
    }
    if (out.captures.every((c) => c.kind === 'conntrack')) {
      const file = path.join(dir, 'iptables-save.txt')
      return unreadableNode(
        node,
        `${file} not found: capture it on the node with: iptables-save > iptables-save.txt (IPv6 Services: also ip6tables-save > ip6tables-save.txt; nftables mode: nft -j list table ip kube-proxy > nft.json; IPVS mode: also ipvsadm -Sn > ipvsadm.txt and ipset save > ipset.txt)`,
      )
    }
    return out
  }

  /** read-error.txt: the node failed to read when --capture ran; its sentence, as the live run showed it. */
  private async readError(dir: string): Promise<string | undefined> {
    const file = path.join(dir, READ_ERROR_FILE)
    try {
      const s = await stat(file)
      if (s.size > MAX_NODE_FILE_BYTES) return `${file} is over the ${MAX_NODE_FILE_BYTES / 2 ** 20} MiB a node may return; it should hold one sentence`
      const text = (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
      return text.trim() ? text : `the node was not read when this bundle was captured (${file} is empty)`
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined
      return `${file}: cannot read (${(err as Error).message})`
    }
  }

  /** iptables-legacy-save.txt (counted) or other-iptables-backend.json (as --capture writes it). */
  private async otherBackend(dir: string): Promise<{found?: NonNullable<NodeDataplane['otherIptablesBackend']>} | {readError: string}> {
    const legacy = path.join(dir, OTHER_BACKEND_FILES.text)
    const json = path.join(dir, OTHER_BACKEND_FILES.count)
    try {
      const s = await stat(legacy)
      if (s.size > MAX_NODE_FILE_BYTES)
        return {
          readError: `${legacy} is over the ${MAX_NODE_FILE_BYTES / 2 ** 20} MiB a node may return; capture only the nat table (iptables-legacy-save -t nat)`,
        }
      return {found: {backend: 'legacy', kubeRules: countKubeProxyRules(decode(await readFile(legacy))), source: legacy}}
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') return {readError: `${legacy}: cannot read (${(err as Error).message})`}
    }
    let text: string
    try {
      text = await readFile(json, 'utf8')
    } catch (err) {
      return errnoOf(err) === 'ENOENT' ? {} : {readError: `${json}: cannot read (${(err as Error).message})`}
    }
    const o = (() => {
      try {
        return JSON.parse(text) as Record<string, unknown>
      } catch {
        return undefined
      }
    })()
    if (!o || (o.backend !== 'legacy' && o.backend !== 'nft') || !Number.isInteger(o.kubeRules) || (o.kubeRules as number) < 0) {
      return {readError: `${json}: expected {"backend": "legacy" | "nft", "kubeRules": N, "source": "…"}`}
    }
    return {found: {backend: o.backend, kubeRules: o.kubeRules as number, source: typeof o.source === 'string' ? o.source : json}}
  }
}
