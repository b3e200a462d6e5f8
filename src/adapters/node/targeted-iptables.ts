// Targeted collection: instead of a whole `iptables-save` (63 MB on a generated 10,000-Service node:
// 2 s with iptables-legacy, minutes with iptables-nft 1.8.9, whose save grows quadratically), read
// only the chains a single-Service trace walks, one `iptables -w 5 -t TABLE -S CHAIN` each, in
// rounds: first the plan's chains (entry chains and the KUBE-SVC/SVL/EXT/FW/SEP names the API
// predicts), then whatever rules already read jump to for the Service's destinations
// (chain-listing.ts nextChains), until nothing is missing. The result is iptables-save text the
// tracer reads like a whole dump. With iptables-nft each listing reads one chain from the kernel;
// iptables-legacy loads the whole table for every listing, under the xtables lock (1.5 s each on that
// node), so on a legacy node (`iptables -V` says so) nat and filter are read whole with
// `iptables-save -t TABLE` instead (npm run bench measures both backends).
import type {CollectionPlan} from '../../core/collection-plan.js'
import {
  emptyCollection,
  formatChainCollection,
  isCollected,
  nextChains,
  parseChainListing,
  recordChain,
  type ChainCollection,
  type ChainRef,
} from '../../core/iptables/chain-listing.js'
import {DumpError} from '../../core/iptables/dump.js'
import {iptablesBackendOf, nodeCommands, UnsafeArgumentError, type NodeCommand} from './commands.js'
import {NodeAccessError, type NodeSession} from './connector.js'

/** What a targeted read returns: the rules as iptables-save text, and what reading them cost. */
export interface TargetedRead {
  text: string
  /** For messages and the report: `node1: iptables -S (targeted: 14 chains in 3 rounds)`. */
  source: string
  /** Commands run on the node. */
  commands: number
  /** Bytes of output read. */
  bytes: number
}

/** Commands in flight on one session at once (sshd allows 10 sessions per connection by default). */
const CONCURRENCY = 8
/** Rounds of chain listings; kube-proxy's deepest path (SERVICES → FW → EXT → SVC → SEP → MARK-MASQ) needs 6. */
const MAX_ROUNDS = 8

// iptables-legacy: "iptables: No chain/target/match by that name."; iptables-nft 1.8.9 says a missing
// chain "in table `nat' is incompatible"; a kernel without the nat table: "Table does not exist".
const MISSING_CHAIN = /No chain\/target\/match by that name|chain `[^']*' in table `[^']*' is incompatible|does not exist/
// iptables-legacy lists a chain by loading the whole table under /run/xtables.lock (exit 4 when -w runs out).
const LOCK_BUSY = /xtables lock|Can't lock/

/** The xtables lock stayed busy: listing chain by chain is not going to work on this node. */
class LockBusy extends Error {}

/** Runs commands over one session, counting them and their output. */
class CountingSession {
  commands = 0
  bytes = 0

  constructor(
    private readonly session: NodeSession,
    private readonly node: string,
  ) {}

  /** stdout, or null when iptables says the chain (or table) does not exist; LockBusy when the xtables lock stayed taken. */
  async list(cmd: NodeCommand): Promise<string | null> {
    this.commands++
    let result
    try {
      result = await this.session.run(cmd)
    } catch (err) {
      // SSH sessions reject a non-zero exit with the command's stderr in the message.
      if (err instanceof NodeAccessError && err.kind === 'command') return this.failed(cmd, err.message, err.message)
      throw err
    }
    this.bytes += Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr)
    if (result.exitCode === 0) return result.stdout
    const said = result.stderr.trim().split('\n')[0] || 'no error output'
    return this.failed(cmd, result.stderr, `\`${cmd.argv.join(' ')}\` on ${this.node} exited with ${result.exitCode}: ${said}`)
  }

  /** True when `iptables -V` names the legacy backend. */
  async isLegacy(): Promise<boolean> {
    try {
      return iptablesBackendOf((await this.list(nodeCommands.iptablesVersion())) ?? '') === 'legacy'
    } catch (err) {
      // Cannot tell: list chain by chain (a busy lock still falls back to whole tables).
      if (err instanceof NodeAccessError) return false
      throw err
    }
  }

  /** null for a missing chain; otherwise throws LockBusy or NodeAccessError with `message`. */
  private failed(cmd: NodeCommand, stderr: string, message: string): null {
    if (MISSING_CHAIN.test(stderr)) return null
    if (LOCK_BUSY.test(stderr) && cmd.id === 'iptables-list-chain') throw new LockBusy(message)
    throw new NodeAccessError(message, 'command')
  }
}

/** Runs `work` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  // One iterator shared by every worker: each item is handed out once.
  const queue = items.values()
  const worker = async () => {
    for (const item of queue) await work(item)
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}

/** The allow-listed command for one chain, or undefined when its name is not one the list accepts (a CNI's chain). */
function listCommand(ref: ChainRef): NodeCommand | undefined {
  try {
    return nodeCommands.iptablesListChain(ref.table, ref.chain)
  } catch (err) {
    if (err instanceof UnsafeArgumentError) return undefined
    throw err
  }
}

/** Lists the chains; when the xtables lock stays busy, reads their tables whole instead and says why. */
async function readChains(s: CountingSession, c: ChainCollection, refs: ChainRef[], node: string, why: string[]): Promise<void> {
  const busy = new Set<string>()
  await eachLimited(refs, CONCURRENCY, async (ref) => {
    // Once the lock is busy for a table, the listings still queued for it would only wait for it too.
    if (busy.has(ref.table)) return
    try {
      await readChain(s, c, ref, node)
    } catch (err) {
      if (!(err instanceof LockBusy)) throw err
      busy.add(ref.table)
    }
  })
  const tables = [...busy].filter((t) => !c.whole.has(t))
  if (tables.length > 0) why.push(`${tables.join(', ')} read whole: the xtables lock stayed busy (iptables-legacy loads the whole table per listing)`)
  await Promise.all(tables.map((table) => readWholeTable(s, c, table)))
}

async function readChain(s: CountingSession, c: ChainCollection, ref: ChainRef, node: string): Promise<void> {
  const out = await s.list(nodeCommands.iptablesListChain(ref.table, ref.chain))
  try {
    recordChain(c, ref.table, ref.chain, out === null ? null : parseChainListing(ref.table, ref.chain, out))
  } catch (err) {
    if (err instanceof DumpError) throw new NodeAccessError(`${node}: ${err.message}`, 'command')
    throw err
  }
}

/** Reads a table whole (`iptables-save -t TABLE`): for chains the allow-list cannot name, or too many rounds. */
async function readWholeTable(s: CountingSession, c: ChainCollection, table: string): Promise<void> {
  const out = await s.list(nodeCommands.iptablesSaveTable(table))
  c.whole.set(table, out ?? '')
}

/** True when nat KUBE-SERVICES was read (listed, or inside a whole nat table). */
function hasKubeServices(c: ChainCollection): boolean {
  const whole = c.whole.get('nat')
  return whole === undefined ? Boolean(c.listed.get('nat')?.get('KUBE-SERVICES')) : /^:KUBE-SERVICES /m.test(whole)
}

/**
 * Later rounds: the chains rules already read jump to for the plan's destinations, until none is
 * missing. A table is read whole when a chain on the path has a name the allow-list cannot list
 * (a CNI's), or after MAX_ROUNDS. Returns the number of rounds, the first one included.
 */
async function readFurther(s: CountingSession, c: ChainCollection, plan: CollectionPlan, node: string, why: string[]): Promise<number> {
  let rounds = 1
  for (;;) {
    const needed = nextChains(c, plan.destinations, plan.localAddresses !== undefined ? {localAddresses: plan.localAddresses} : {})
    if (needed.length === 0) return rounds
    const capped = rounds >= MAX_ROUNDS
    const unlisted = capped ? needed : needed.filter((ref) => listCommand(ref) === undefined)
    const tables = [...new Set(unlisted.map((ref) => ref.table))]
    for (const table of tables) {
      const chains = unlisted.filter((ref) => ref.table === table).map((ref) => ref.chain)
      why.push(
        `${table} read whole: ${capped ? `still missing after ${MAX_ROUNDS} rounds` : 'rules jump to'} ${chains.slice(0, 3).join(', ')}${chains.length > 3 ? ', …' : ''}`,
      )
    }
    rounds++
    await Promise.all(tables.map((table) => readWholeTable(s, c, table)))
    await readChains(
      s,
      c,
      needed.filter((ref) => !c.whole.has(ref.table)),
      node,
      why,
    )
  }
}

/** iptables-legacy: every listing would load the whole table anyway, so read the two tables the tracer walks whole. */
async function readLegacy(s: CountingSession, c: ChainCollection, node: string): Promise<TargetedRead | null> {
  await Promise.all(['nat', 'filter'].map((table) => readWholeTable(s, c, table)))
  if (!hasKubeServices(c)) return null
  const source = `${node}: iptables-save -t nat, -t filter (iptables-legacy loads a whole table for each iptables -S CHAIN: whole tables are quicker)`
  return {text: formatChainCollection(c), source, commands: s.commands, bytes: s.bytes}
}

/**
 * Reads the chains a single-Service trace walks, in rounds. Null when the node has no nat
 * KUBE-SERVICES chain (no kube-proxy in iptables mode: the caller reads whole dumps instead).
 * Rejects with NodeAccessError when a command fails for another reason.
 */
export async function readIptablesTargeted(session: NodeSession, plan: CollectionPlan, node: string, backend?: 'legacy' | 'nft'): Promise<TargetedRead | null> {
  const s = new CountingSession(session, node)
  const c = emptyCollection()
  const why: string[] = []
  // The caller may already know the backend (from `iptables -V`); otherwise ask.
  if (backend === 'legacy' || (backend === undefined && (await s.isLegacy()))) return readLegacy(s, c, node)
  // nat KUBE-SERVICES alone first: a node without it (another proxy mode, no kube-proxy) costs one command.
  await readChains(s, c, [{table: 'nat', chain: 'KUBE-SERVICES'}], node, why)
  if (!hasKubeServices(c)) return null
  const first = (['nat', 'filter'] as const).flatMap((table) => plan.chains[table].map((chain) => ({table, chain})))
  await readChains(
    s,
    c,
    first.filter((ref) => !isCollected(c, ref.table, ref.chain)),
    node,
    why,
  )
  const rounds = await readFurther(s, c, plan, node, why)
  const chains = [...c.listed].filter(([table]) => !c.whole.has(table)).reduce((n, [, m]) => n + [...m.values()].filter(Boolean).length, 0)
  const summary = `targeted: ${chains} chains in ${rounds} round${rounds > 1 ? 's' : ''}${why.length > 0 ? `; ${why.join('; ')}` : ''}`
  return {text: formatChainCollection(c), source: `${node}: iptables -S (${summary})`, commands: s.commands, bytes: s.bytes}
}
