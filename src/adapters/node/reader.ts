// NodeReader over any NodeConnector (SSH or pod exec): the nodes are the API's Node objects, each read
// through its own session, at most `parallel` at once. A node that cannot be read becomes a readError
// sentence saying what failed and what to do; it never fails the other nodes.
import type {V1Node} from '@kubernetes/client-node'
import type {ActivityLog, CollectionPlan, NodeReader} from '../../app/ports.js'
import type {ClusterView, NodeDataplane} from '../../core/model.js'
import {UnsafeArgumentError} from './commands.js'
import {NodeAccessError, type FirstBatch, type NodeConnector, type NodeSession} from './connector.js'
import {firstRound, readNodeDataplane} from './dataplane-reader.js'
import {Limiter} from './limiter.js'
import {loggedSession} from './logged-session.js'
import {unreadableNode} from '../../core/captures.js'

export {Limiter} from './limiter.js'

export type AddressType = 'InternalIP' | 'ExternalIP'

export interface LiveNodeReaderOptions {
  /** Nodes read at once (--parallel); default 10. */
  parallel?: number
  /** Which Node address to dial (--ssh-address-type); default InternalIP, else ExternalIP. */
  addressType?: AddressType
  /** False when the connector needs no address (pod exec, or a host template without {address}). */
  needsAddress?: boolean
  /** How nodes are reached, for the hints in error sentences. */
  via: 'ssh' | 'exec'
  /** Called as each node finishes: done of total started so far. */
  onProgress?: (done: number, total: number) => void
  /** -v: each node command, with its exit status, bytes and time. */
  log?: ActivityLog
}

const DEFAULT_PARALLEL = 10

/** The address to dial: the asked type, or by default InternalIP then ExternalIP. */
function nodeTargetAddress(node: V1Node | undefined, type: AddressType | undefined): string | undefined {
  const addresses = node?.status?.addresses ?? []
  const of = (t: string) => addresses.find((a) => a.type === t)?.address
  return type ? of(type) : (of('InternalIP') ?? of('ExternalIP'))
}

function missingAddress(name: string, node: V1Node | undefined, type: AddressType | undefined): string {
  const have = (node?.status?.addresses ?? []).map((a) => `${a.type} ${a.address}`).join(', ') || 'none'
  const wanted = type ?? 'InternalIP or ExternalIP'
  return `cannot reach ${name}: its Node object has no ${wanted} address (status.addresses: ${have}); pick another with --ssh-address-type, or name hosts with --ssh-host-template '{name}.example.com'`
}

/** The NodeAccessError's sentence with the next step for this way of reaching nodes. */
export function readErrorOf(err: unknown, via: 'ssh' | 'exec'): string {
  if (err instanceof UnsafeArgumentError) return `${err.message}; nothing was run`
  if (!(err instanceof NodeAccessError)) return `internal error: ${(err as Error)?.message ?? String(err)} (this is a bug in svctrace; please report it)`
  const m = err.message
  switch (err.kind) {
    case 'sudo':
      if (!/password|terminal|tty/i.test(m)) return m
      return (
        `${m}: sudo -n cannot ask for a password. Allow these read-only commands without one (sudoers: USER ALL=(root) NOPASSWD: ` +
        '/usr/sbin/iptables-save, /usr/sbin/iptables, /usr/sbin/ip6tables-save, /usr/sbin/ip6tables, /usr/sbin/iptables-legacy-save, /usr/sbin/iptables-nft-save, /usr/sbin/nft, /usr/sbin/ipvsadm, /usr/sbin/ipset, /usr/bin/cat /proc/net/ip_vs; with --conntrack also /usr/sbin/conntrack -L *), ' +
        'or log in as root (--ssh-user root) without --sudo'
      )
    case 'timeout':
      if (/did not finish within/.test(m)) return `${m}; raise --node-timeout (seconds per command)`
      return via === 'ssh' ? `${m} (raise --connect-timeout if the network is slow)` : m
    case 'too-large':
      return `${m}: capture that node on the node itself (iptables-save > nodes/NODE/iptables-save.txt with cluster.yaml beside it) and trace it with --from DIR`
    case 'unreachable':
      // A node that cannot be dialled at all may sit behind a jump host; a dropped connection does not.
      return via === 'ssh' && /^cannot connect/.test(m) && !/bastion/.test(m)
        ? `${m} (if nodes are reachable only through a jump host, pass --bastion user@host:port)`
        : m
    default:
      return m
  }
}

export class LiveNodeReader implements NodeReader {
  private readonly nodes = new Map<string, V1Node>()
  private readonly pool: Limiter
  private readonly sessions = new Set<NodeSession>()
  /** Connections nodesListed() started, by node, until read() takes them, with the first batch they may send early. */
  private readonly early = new Map<string, {session: Promise<NodeSession>; first: FirstBatch}>()
  private closed = false
  private started = 0
  private done = 0

  constructor(
    private readonly connector: NodeConnector,
    private readonly opts: LiveNodeReaderOptions,
  ) {
    this.pool = new Limiter(opts.parallel ?? DEFAULT_PARALLEL)
  }

  /** The API's Node names, sorted (the same order a bundle lists them in). */
  async nodeNames(view: ClusterView): Promise<string[]> {
    for (const n of view.nodes) if (n.metadata?.name) this.nodes.set(n.metadata.name, n)
    return [...this.nodes.keys()].sort()
  }

  /**
   * Connects to the nodes read() will start with (the first `parallel` of them in name order, as the
   * trace asks for them), while the API read goes on; read() takes each connection, or its failure.
   */
  nodesListed(nodes: ClusterView['nodes'], only: readonly string[]): void {
    if (this.closed) return
    for (const n of nodes) if (n.metadata?.name) this.nodes.set(n.metadata.name, n)
    const names = (only.length > 0 ? [...new Set(only)] : [...this.nodes.keys()]).filter((n) => this.nodes.has(n)).sort()
    for (const name of names.slice(0, this.opts.parallel ?? DEFAULT_PARALLEL)) {
      const address = nodeTargetAddress(this.nodes.get(name), this.opts.addressType)
      if (this.early.has(name) || (address === undefined && this.opts.needsAddress !== false)) continue
      const first: FirstBatch = {}
      const connecting = this.connector.connect({name, address: address ?? ''}, first)
      // Failures are read()'s to report; one never taken is closed by close().
      connecting.catch(() => undefined)
      this.early.set(name, {session: connecting, first})
    }
  }

  async read(node: string, plan: CollectionPlan): Promise<NodeDataplane> {
    this.started++
    this.opts.onProgress?.(this.done, this.started)
    try {
      return await this.pool.run(() => this.readOne(node, plan))
    } finally {
      this.done++
      this.opts.onProgress?.(this.done, this.started)
    }
  }

  private async readOne(name: string, plan: CollectionPlan): Promise<NodeDataplane> {
    if (this.closed) return unreadableNode(name, `${name} was not read: the run was interrupted`)
    const node = this.nodes.get(name)
    const address = nodeTargetAddress(node, this.opts.addressType)
    if (address === undefined && this.opts.needsAddress !== false) return unreadableNode(name, missingAddress(name, node, this.opts.addressType))
    let session: NodeSession | undefined
    const early = this.early.get(name)
    this.early.delete(name)
    // The first batch, known now: a connection still logging in may send it with its last flight.
    const round = firstRound(plan)
    if (early) early.first.steps = round
    try {
      session = await (early?.session ?? this.connector.connect({name, address: address ?? ''}, {steps: round}))
      this.sessions.add(session)
      if (this.closed) return unreadableNode(name, `${name} was not read: the run was interrupted`)
      const reading = this.opts.log && !session.reportsCommands ? loggedSession(session, name, this.opts.via, this.opts.log) : session
      const log = this.opts.log
      const note = log ? (text: string) => log.nodeRead({node: name, via: this.opts.via, text}) : undefined
      return await readNodeDataplane(reading, name, plan, note, undefined, round)
    } catch (err) {
      return unreadableNode(name, this.closed ? `${name} was not read: the run was interrupted` : readErrorOf(err, this.opts.via))
    } finally {
      if (session) {
        this.sessions.delete(session)
        await session.close().catch(() => undefined)
      }
    }
  }

  /** Ends open sessions (in-flight commands fail as interrupted) and what the connector holds; idempotent. */
  async close(): Promise<void> {
    this.closed = true
    const open = [...this.sessions]
    this.sessions.clear()
    // A connection made ahead and never taken is closed once it is made, without holding this up: one
    // still in its handshake ends by itself (at worst at --connect-timeout), as a read()'s would.
    for (const c of this.early.values()) c.session.then((s) => s.close()).catch(() => undefined)
    this.early.clear()
    await Promise.all(open.map((s) => s.close().catch(() => undefined)))
    await this.connector.close?.()
  }
}
