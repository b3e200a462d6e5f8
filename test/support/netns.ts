// Real-kernel test harness: builds a small Kubernetes-like network out of Linux network namespaces so that
// kube-proxy rule dumps can be loaded into a real netfilter and probed with real TCP connections.
//
// Layout built by Topology.create():
//
//   <prefix>lan      one bridge "br0" = the node network (L2 only, no address, no rules)
//   <prefix>router   optional gateway on the LAN; routes every pod CIDR to its node; no default route. Extra
//                    addresses (e.g. 203.0.113.1/24) make it the gateway of outside subnets on the same wire
//   <prefix>node-X   one per node: eth0 (node IP + extra local addresses such as LB IPs) into the LAN,
//                    ip_forward=1, route_localnet=1 (kube-proxy sets it), default via the router, a route to
//                    every other node's pod CIDR via that node
//   <prefix>pod-…    one per pod, ptp/Calico style: eth0 with podIP/32, "default via 169.254.1.1" onlink; the
//                    node side is a veth with proxy_arp and a podIP/32 route; a responder answers on every
//                    container port with the pod's name
//   <prefix>host-X   plain hosts on the LAN (external clients, an apiserver, …), default via the router; a host
//                    with a subnet of its own (outside the LAN) uses the router's address in that subnet
//
// Nodes and the router send every ICMP error (icmp_ratelimit=0): the kernel otherwise answers a burst of
// probes to one destination with ~6 errors and then one per second, so a REJECT seen by a pod client (the
// ICMP goes out on a real interface; loopback is exempt) would look like a drop to the later probes. Real
// clients hide that limit by retransmitting their SYN; the probes' short timeouts would not.
//
// Every namespace is named `svct-<pid>-<n>-<role>`; everything created is recorded and removed by
// destroy(), and cleanupLeftovers() removes namespaces left by test processes that no longer exist.
// Traffic only ever goes to loopback or to addresses inside these namespaces.
import {execFile, execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const NS_PREFIX = 'svct-'

const RESPONDER = fileURLToPath(new URL('./netns-responder.mjs', import.meta.url))
const PROBE = fileURLToPath(new URL('./netns-probe.mjs', import.meta.url))
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin']
const CMD_TIMEOUT_MS = 20_000
/** Gateway address every pod uses (answered by proxy ARP on the node side, like Calico). */
const POD_GATEWAY = '169.254.1.1'

// ---------------------------------------------------------------------------------------------------------
// Specs

export interface NodeSpec {
  name: string
  /** Node IP on the LAN. */
  ip: string
  podCIDR: string
  /** Extra local addresses put on the node's LAN interface as /32 (e.g. a LoadBalancer IP). */
  extraAddresses?: string[]
  /** net.ipv4.conf.all.route_localnet=1, as kube-proxy sets it for localhost NodePorts (default true). */
  routeLocalnet?: boolean
}

export interface PodSpec {
  /** "namespace/name"; also what its responder answers with. */
  name: string
  ip: string
  node: string
  /** TCP container ports the responder listens on. */
  ports: number[]
}

export interface HostSpec {
  name: string
  ip: string
  /**
   * The host's own subnet when it is not on the node network (e.g. "203.0.113.0/24" for a client outside the
   * cluster): the host gets ip/<that prefix> and a default route via the router's address in that subnet
   * (see RouterSpec.extraAddresses). Default: the LAN.
   */
  subnet?: string
  /** Ports a responder listens on (none: a pure client). */
  ports?: number[]
  /** answer: say "<name> <local> <peer>" and close; silent: accept and say nothing. */
  mode?: 'answer' | 'silent'
}

export interface RouterSpec {
  name: string
  /** Its address on the node network. */
  ip: string
  /**
   * More addresses with their prefix ("203.0.113.1/24") on the same LAN interface: the router is the gateway
   * of those subnets (router on a stick), so hosts in them reach the nodes through it, and back.
   */
  extraAddresses?: string[]
}

export interface TopologySpec {
  /** The node network, e.g. "172.30.0.0/24". */
  lanCIDR: string
  /** Gateway host on the LAN that routes every pod CIDR to its node. */
  router?: RouterSpec
  nodes: NodeSpec[]
  pods: PodSpec[]
  hosts?: HostSpec[]
}

export type MemberKind = 'lan' | 'router' | 'node' | 'pod' | 'host'

export interface Member {
  name: string
  kind: MemberKind
  netns: string
  ip?: string
  /** For pods: the node they run on. */
  node?: string
}

// ---------------------------------------------------------------------------------------------------------
// Environment checks

export interface Requirement {
  /** True when the suite must be skipped (not usable here and not in CI). */
  skip: boolean
  /** Why the environment is not usable; undefined when it is. */
  reason?: string | undefined
  /** Throws when the environment is not usable (use in beforeAll: in CI that turns a skip into a failure). */
  assert(): void
}

export function isCI(): boolean {
  const v = process.env.CI
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
}

/** Absolute path of a binary, looking in PATH and the sbin directories; undefined when missing. */
export function which(bin: string): string | undefined {
  if (bin.includes('/')) return existsSync(bin) ? bin : undefined
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS].filter(Boolean)
  for (const d of dirs) {
    const p = join(d, bin)
    if (existsSync(p)) return p
  }
  return undefined
}

const REQUIRED_BINS = ['ip', 'iptables-restore', 'iptables-save']

function bin(name: string): string {
  return which(name) ?? name
}

/**
 * Checks that this process can build namespaces: Linux, root, the binaries, and a trial namespace with a
 * veth pair and a bridge. Outside CI an unusable environment means "skip" (and the reason is printed with
 * console.warn); with CI set it means "fail": skip stays false and assert() throws.
 */
export function requireRoot(extraBins: string[] = [], label = 'svctrace netns integration'): Requirement {
  const reason = probeEnvironment([...REQUIRED_BINS, ...extraBins])
  const ci = isCI()
  if (reason && !ci) {
    console.warn(`[${label}] SKIPPED: ${reason} (set CI=1 to turn this into a failure)`)
  }
  return {
    skip: reason !== undefined && !ci,
    reason,
    assert() {
      if (reason) throw new Error(`[${label}] cannot run: ${reason}`)
    },
  }
}

function probeEnvironment(bins: string[]): string | undefined {
  if (process.platform !== 'linux') return `needs Linux network namespaces (platform is ${process.platform})`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces, iptables)'
  const missing = bins.filter((b) => which(b) === undefined)
  if (missing.length > 0) return `missing binaries: ${missing.join(', ')}`
  const ns = `${NS_PREFIX}${process.pid}-envcheck`
  try {
    const ip = bin('ip')
    execFileSync(ip, ['netns', 'add', ns], {stdio: 'pipe', timeout: CMD_TIMEOUT_MS})
    execFileSync(ip, ['-n', ns, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0'], {stdio: 'pipe', timeout: CMD_TIMEOUT_MS})
    execFileSync(ip, ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge'], {stdio: 'pipe', timeout: CMD_TIMEOUT_MS})
    execFileSync(ip, ['netns', 'exec', ns, bin('iptables-save')], {stdio: 'pipe', timeout: CMD_TIMEOUT_MS})
  } catch (err) {
    return `cannot create a network namespace with veth and bridge: ${errText(err)}`
  } finally {
    try {
      execFileSync(bin('ip'), ['netns', 'del', ns], {stdio: 'pipe', timeout: CMD_TIMEOUT_MS})
    } catch {
      // it may not exist
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// Command helpers

interface RunResult {
  stdout: string
  stderr: string
}

function errText(err: unknown): string {
  const e = err as {stderr?: Buffer | string; message?: string}
  const stderr = e?.stderr ? String(e.stderr).trim() : ''
  return stderr || e?.message || String(err)
}

/** Runs a command (no shell), optionally feeding stdin; rejects with stderr in the message. */
export function run(argv: string[], opts: {input?: string; timeoutMs?: number} = {}): Promise<RunResult> {
  const [cmd, ...args] = argv
  if (cmd === undefined) return Promise.reject(new Error('run: empty argv'))
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin(cmd),
      args,
      {timeout: opts.timeoutMs ?? CMD_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024},
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`${argv.join(' ')}: ${String(stderr).trim() || err.message}`))
        } else {
          resolve({stdout: String(stdout), stderr: String(stderr)})
        }
      },
    )
    if (opts.input !== undefined) child.stdin?.end(opts.input)
    else child.stdin?.end()
  })
}

async function listNetns(): Promise<string[]> {
  const {stdout} = await run(['ip', 'netns', 'list'])
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n): n is string => Boolean(n))
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Kills (by pid) every process still inside a namespace we created, then deletes the namespace. */
async function removeNetns(ns: string): Promise<void> {
  try {
    const {stdout} = await run(['ip', 'netns', 'pids', ns])
    for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  } catch {
    // namespace may already be gone
  }
  await run(['ip', 'netns', 'del', ns])
}

/**
 * Removes `svct-<pid>-…` namespaces whose creating process is gone (a crashed or killed earlier run).
 * Namespaces of live processes (another test run in progress) are left alone.
 */
export async function cleanupLeftovers(): Promise<string[]> {
  const removed: string[] = []
  for (const ns of await listNetns()) {
    const m = /^svct-(\d+)-/.exec(ns)
    if (!m) continue
    const pid = Number(m[1])
    if (pid === process.pid || pidAlive(pid)) continue
    await removeNetns(ns)
    removed.push(ns)
  }
  return removed
}

/** Our namespaces (this process) that still exist. */
export async function ownNamespaces(): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`${NS_PREFIX}${process.pid}-`))
}

// ---------------------------------------------------------------------------------------------------------
// Probing

export type AttemptKind = 'answered' | 'refused' | 'timeout' | 'unreachable' | 'silent' | 'closed' | 'reset' | 'partial' | 'error' | 'skipped'

export interface Attempt {
  kind: AttemptKind
  ms: number
  /** answered: the responder's identity ("namespace/pod" or host name). */
  id?: string
  /** answered: address the connection arrived at inside the responder (after DNAT). */
  local?: string
  /** answered: client address as seen by the responder (after SNAT/masquerade). */
  peer?: string
  /** unreachable/error: errno code. */
  code?: string
  text?: string
}

export interface ConnectOptions {
  /** Member name to connect from: a node, pod ("ns/name"), host or router name. */
  from?: string
  /** Same as `from`; also accepts the raw name of a namespace of this topology. One of the two is needed. */
  fromNs?: string
  dst: string
  port: number
  /** Number of connections, default 10 (max 1000). */
  attempts?: number
  /** Time allowed for the TCP handshake of one connection; default 500 ms. */
  timeoutMs?: number
  /** After connecting, how long to wait for the responder's line before calling it silent; default 500 ms. */
  silentMs?: number
  /** Connections in flight at once; default 1 (use 1 when order matters, e.g. session affinity). */
  concurrency?: number
  /** No attempt starts after this; default from the others, at most 60 s. */
  deadlineMs?: number
}

export interface ConnectResult {
  /** The member (or namespace) the connections were made from. */
  from: string
  dst: string
  port: number
  attempts: Attempt[]
  counts: Partial<Record<AttemptKind, number>>
  /** Sorted distinct identities that answered. */
  answeredBy: string[]
  /** Sorted distinct "ip:port" the answering responders were reached at. */
  backends: string[]
  /** Sorted distinct client IPs seen by the answering responders. */
  peerIPs: string[]
  /** The single kind all attempts had, or "mixed". */
  outcome: AttemptKind | 'mixed'
  elapsedMs: number
}

function summarize(opts: ConnectOptions & {from: string}, attempts: Attempt[], elapsedMs: number): ConnectResult {
  const counts: Partial<Record<AttemptKind, number>> = {}
  for (const a of attempts) counts[a.kind] = (counts[a.kind] ?? 0) + 1
  const answered = attempts.filter((a) => a.kind === 'answered')
  const uniq = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => Boolean(x)))].sort()
  const [kind, ...otherKinds] = Object.keys(counts) as AttemptKind[]
  return {
    from: opts.from,
    dst: opts.dst,
    port: opts.port,
    attempts,
    counts,
    answeredBy: uniq(answered.map((a) => a.id)),
    backends: uniq(answered.map((a) => a.local)),
    peerIPs: uniq(answered.map((a) => a.peer?.replace(/:\d+$/, ''))),
    outcome: kind !== undefined && otherKinds.length === 0 ? kind : 'mixed',
    elapsedMs,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Topology

let topologySeq = 0
const liveTopologies = new Set<Topology>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort if destroy() never ran (worker torn down): delete our namespaces synchronously. Responders
  // exit by themselves when their stdin (held by this process) closes.
  process.on('exit', () => {
    for (const t of liveTopologies) t.destroySync()
  })
}

function slug(s: string): string {
  return s.replace(/\//g, '.').replace(/[^A-Za-z0-9._-]/g, '_')
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 ${ip}`)
  return parts.reduce((acc, p) => acc * 256 + p, 0)
}

/** The address part of `a.b.c.d/len` (or of a bare address). */
function addressOf(cidr: string): string {
  const [address = ''] = cidr.split('/')
  return address
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [net = '', lenText] = cidr.split('/')
  const len = Number(lenText)
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0
  return (ipToInt(ip) & mask) === (ipToInt(net) & mask)
}

function cidrPrefix(cidr: string): number {
  const p = Number(cidr.split('/')[1])
  if (!Number.isInteger(p) || p < 0 || p > 32) throw new Error(`bad CIDR ${cidr}`)
  return p
}

export interface TopologyOptions {
  /** Short label put into namespace names (for humans reading `ip netns list`). */
  label?: string
  /** Responders stop by themselves after this long; default 15 min. */
  responderTtlMs?: number
}

export class Topology {
  readonly prefix: string
  readonly spec: TopologySpec
  private readonly members = new Map<string, Member>()
  private readonly netnsCreated: string[] = []
  private readonly children: ChildProcess[] = []
  private destroyed = false

  private constructor(spec: TopologySpec, opts: TopologyOptions) {
    topologySeq += 1
    const label = opts.label ? `${slug(opts.label)}-` : ''
    this.prefix = `${NS_PREFIX}${process.pid}-${topologySeq}-${label}`
    this.spec = spec
  }

  /** Builds the whole topology; on failure removes whatever was created and rethrows. */
  static async create(spec: TopologySpec, opts: TopologyOptions = {}): Promise<Topology> {
    installExitHook()
    const t = new Topology(spec, opts)
    liveTopologies.add(t)
    try {
      await t.build(opts)
      return t
    } catch (err) {
      await t.destroy().catch(() => undefined)
      throw err
    }
  }

  /** Every member by name (node, pod "ns/name", host, router, and "lan"). */
  member(name: string): Member {
    const m = this.members.get(name)
    if (!m) throw new Error(`no member ${JSON.stringify(name)} in topology (have: ${[...this.members.keys()].join(', ')})`)
    return m
  }

  hasMember(name: string): boolean {
    return this.members.has(name)
  }

  allMembers(): Member[] {
    return [...this.members.values()]
  }

  /** Name of the network namespace of a member; a namespace name of this topology is returned as is. */
  netns(name: string): string {
    if (!this.members.has(name) && name.startsWith(this.prefix) && this.netnsCreated.includes(name)) return name
    return this.member(name).netns
  }

  /** Runs a command inside a member's namespace (member name or namespace name). */
  exec(name: string, argv: string[], opts: {input?: string; timeoutMs?: number} = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.netns(name), ...argv.map((a, i) => (i === 0 ? bin(a) : a))], opts)
  }

  /** Feeds an iptables-save dump to the real iptables-restore in a node's namespace (flushes those tables). */
  async loadRules(node: string, text: string): Promise<void> {
    await this.exec(node, ['iptables-restore'], {input: text})
  }

  /** The real iptables-save output of a node's namespace. */
  async saveRules(node: string): Promise<string> {
    return (await this.exec(node, ['iptables-save'])).stdout
  }

  /** Feeds nft text (`nft -f` form, as kube-proxy's nftables mode writes it) to the real nft in a node's namespace. */
  async loadNftRules(node: string, text: string): Promise<void> {
    await this.exec(node, ['nft', '-f', '-'], {input: text})
  }

  /** The real `nft [-j] list table FAMILY NAME` of a node's namespace (default: kube-proxy's IPv4 table). */
  async listNftTable(node: string, opts: {json?: boolean; family?: string; table?: string} = {}): Promise<string> {
    const args = [...(opts.json ? ['-j'] : []), 'list', 'table', opts.family ?? 'ip', opts.table ?? 'kube-proxy']
    return (await this.exec(node, ['nft', ...args])).stdout
  }

  /**
   * Makes `attempts` TCP connections from a member's namespace to dst:port with a Node probe run inside
   * the namespace, and reports who answered, what was refused, timed out, etc. Bounded in count and time.
   */
  async connect(opts: ConnectOptions): Promise<ConnectResult> {
    const from = opts.from ?? opts.fromNs
    if (from === undefined) throw new Error('connect: give from (a member name) or fromNs')
    const attempts = Math.max(1, Math.min(1000, opts.attempts ?? 10))
    const timeoutMs = opts.timeoutMs ?? 500
    const silentMs = opts.silentMs ?? 500
    const concurrency = Math.max(1, opts.concurrency ?? 1)
    const rounds = Math.ceil(attempts / concurrency)
    const deadlineMs = Math.min(60_000, opts.deadlineMs ?? rounds * (timeoutMs + silentMs) + 2_000)
    const cfg = {dst: opts.dst, port: opts.port, attempts, timeoutMs, silentMs, concurrency, deadlineMs}
    const t0 = Date.now()
    const {stdout} = await this.exec(from, [process.execPath, PROBE, JSON.stringify(cfg)], {
      timeoutMs: deadlineMs + 5_000,
    })
    const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {attempts?: Attempt[]}
    if (!Array.isArray(parsed.attempts)) throw new Error(`probe printed no result: ${stdout}`)
    return summarize({...opts, from, attempts}, parsed.attempts, Date.now() - t0)
  }

  /** Kills the responders, deletes every namespace created, and checks none is left. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    const errors: string[] = []
    await Promise.all(this.children.map((c) => stopChild(c)))
    for (const ns of [...this.netnsCreated].reverse()) {
      try {
        await removeNetns(ns)
      } catch (err) {
        errors.push(errText(err))
      }
    }
    const left = (await listNetns()).filter((n) => n.startsWith(this.prefix))
    liveTopologies.delete(this)
    if (left.length > 0) errors.push(`namespaces left behind: ${left.join(', ')}`)
    if (errors.length > 0) throw new Error(`Topology.destroy: ${errors.join('; ')}`)
  }

  /** Synchronous best effort, for process exit. */
  destroySync(): void {
    if (this.destroyed) return
    this.destroyed = true
    for (const c of this.children) {
      if (c.pid && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL')
        } catch {
          // gone
        }
      }
    }
    for (const ns of [...this.netnsCreated].reverse()) {
      try {
        execFileSync(bin('ip'), ['netns', 'del', ns], {stdio: 'pipe', timeout: CMD_TIMEOUT_MS})
      } catch {
        // gone
      }
    }
    liveTopologies.delete(this)
  }

  // ------------------------------------------------------------------------------------------------------

  private async addNetns(name: string, kind: MemberKind, role: string, extra: Partial<Member> = {}): Promise<Member> {
    if (this.members.has(name)) throw new Error(`duplicate member name ${name}`)
    const ns = `${this.prefix}${role}`
    await run(['ip', 'netns', 'add', ns])
    this.netnsCreated.push(ns)
    const m: Member = {name, kind, netns: ns, ...extra}
    this.members.set(name, m)
    // Before any interface exists, so new interfaces inherit the defaults.
    await this.sysctl(ns, {
      'net.ipv6.conf.all.disable_ipv6': 1,
      'net.ipv6.conf.default.disable_ipv6': 1,
      'net.ipv4.conf.all.rp_filter': 0,
      'net.ipv4.conf.default.rp_filter': 0,
    })
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    return m
  }

  private async sysctl(ns: string, kv: Record<string, string | number>, optional = false): Promise<void> {
    const args = Object.entries(kv).map(([k, v]) => `${k}=${v}`)
    try {
      await run(['ip', 'netns', 'exec', ns, bin('sysctl'), '-q', '-w', ...args])
    } catch (err) {
      if (!optional) throw err
    }
  }

  private async build(opts: TopologyOptions): Promise<void> {
    const spec = this.spec
    const lanLen = cidrPrefix(spec.lanCIDR)
    const nodesByName = new Map(spec.nodes.map((n) => [n.name, n]))

    // LAN: a bridge in its own namespace. Bridged frames must not meet the host's br_netfilter settings.
    const lan = await this.addNetns('lan', 'lan', 'lan')
    await run(['ip', '-n', lan.netns, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'])
    await run(['ip', '-n', lan.netns, 'link', 'set', 'br0', 'up'])
    await this.sysctl(lan.netns, {'net.bridge.bridge-nf-call-iptables': 0, 'net.bridge.bridge-nf-call-arptables': 0}, true)

    let lanPort = 0
    const attachToLan = async (m: Member, ip: string, prefixLen = lanLen) => {
      lanPort += 1
      const lanIf = `p${lanPort}`
      await run(['ip', '-n', m.netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', lanIf, 'netns', lan.netns])
      await run(['ip', '-n', lan.netns, 'link', 'set', lanIf, 'master', 'br0'])
      await run(['ip', '-n', lan.netns, 'link', 'set', lanIf, 'up'])
      await run(['ip', '-n', m.netns, 'addr', 'add', `${ip}/${prefixLen}`, 'dev', 'eth0'])
      await run(['ip', '-n', m.netns, 'link', 'set', 'eth0', 'up'])
    }

    if (spec.router) {
      const r = await this.addNetns(spec.router.name, 'router', `router-${slug(spec.router.name)}`, {ip: spec.router.ip})
      await this.sysctl(r.netns, {
        'net.ipv4.ip_forward': 1,
        'net.ipv4.conf.all.send_redirects': 0,
        'net.ipv4.conf.default.send_redirects': 0,
        'net.ipv4.icmp_ratelimit': 0,
      })
      await attachToLan(r, spec.router.ip)
      for (const extra of spec.router.extraAddresses ?? []) {
        cidrPrefix(extra)
        await run(['ip', '-n', r.netns, 'addr', 'add', extra, 'dev', 'eth0'])
      }
      for (const n of spec.nodes) {
        await run(['ip', '-n', r.netns, 'route', 'add', n.podCIDR, 'via', n.ip])
      }
    }

    for (const n of spec.nodes) {
      const m = await this.addNetns(n.name, 'node', `node-${slug(n.name)}`, {ip: n.ip})
      await this.sysctl(m.netns, {
        'net.ipv4.ip_forward': 1,
        'net.ipv4.conf.all.send_redirects': 0,
        'net.ipv4.conf.default.send_redirects': 0,
        'net.ipv4.icmp_ratelimit': 0,
        ...(n.routeLocalnet === false ? {} : {'net.ipv4.conf.all.route_localnet': 1}),
      })
      await attachToLan(m, n.ip)
      for (const extra of n.extraAddresses ?? []) {
        await run(['ip', '-n', m.netns, 'addr', 'add', extra.includes('/') ? extra : `${extra}/32`, 'dev', 'eth0'])
      }
      if (spec.router) await run(['ip', '-n', m.netns, 'route', 'add', 'default', 'via', spec.router.ip])
      for (const other of spec.nodes) {
        if (other.name === n.name) continue
        await run(['ip', '-n', m.netns, 'route', 'add', other.podCIDR, 'via', other.ip])
      }
    }

    for (const h of spec.hosts ?? []) {
      const subnet = h.subnet ?? spec.lanCIDR
      if (!ipInCidr(h.ip, subnet)) throw new Error(`host ${h.name}: ${h.ip} is not in its subnet ${subnet}`)
      const gateway = routerAddressIn(spec, subnet)
      if (h.subnet && !gateway) throw new Error(`host ${h.name}: the router has no address in ${h.subnet} (RouterSpec.extraAddresses)`)
      const m = await this.addNetns(h.name, 'host', `host-${slug(h.name)}`, {ip: h.ip})
      await attachToLan(m, h.ip, cidrPrefix(subnet))
      if (gateway) await run(['ip', '-n', m.netns, 'route', 'add', 'default', 'via', gateway])
    }

    const vethCount = new Map<string, number>()
    for (const p of spec.pods) {
      const node = nodesByName.get(p.node)
      if (!node) throw new Error(`pod ${p.name} is on unknown node ${p.node}`)
      const nodeNs = this.netns(p.node)
      const m = await this.addNetns(p.name, 'pod', `pod-${slug(p.name)}`, {ip: p.ip, node: p.node})
      const idx = vethCount.get(p.node) ?? 0
      vethCount.set(p.node, idx + 1)
      const hostIf = `cali${idx}`
      await run(['ip', '-n', nodeNs, 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.netns])
      await this.sysctl(nodeNs, {[`net.ipv4.conf.${hostIf}.proxy_arp`]: 1, [`net.ipv4.neigh.${hostIf}.proxy_delay`]: 0})
      await run(['ip', '-n', nodeNs, 'link', 'set', hostIf, 'up'])
      await run(['ip', '-n', nodeNs, 'route', 'add', `${p.ip}/32`, 'dev', hostIf])
      await run(['ip', '-n', m.netns, 'addr', 'add', `${p.ip}/32`, 'dev', 'eth0'])
      await run(['ip', '-n', m.netns, 'link', 'set', 'eth0', 'up'])
      await run(['ip', '-n', m.netns, 'route', 'add', POD_GATEWAY, 'dev', 'eth0', 'scope', 'link'])
      await run(['ip', '-n', m.netns, 'route', 'add', 'default', 'via', POD_GATEWAY, 'dev', 'eth0'])
    }

    // Responders, all started in parallel.
    const ttlMs = opts.responderTtlMs ?? 15 * 60_000
    const starts: Promise<void>[] = []
    for (const p of spec.pods) {
      if (p.ports.length > 0) starts.push(this.startResponder(p.name, {id: p.name, ports: p.ports, mode: 'answer', ttlMs}))
    }
    for (const h of spec.hosts ?? []) {
      if (h.ports && h.ports.length > 0) {
        starts.push(this.startResponder(h.name, {id: h.name, ports: h.ports, mode: h.mode ?? 'answer', ttlMs}))
      }
    }
    await Promise.all(starts)
  }

  private startResponder(member: string, cfg: {id: string; ports: number[]; mode: string; ttlMs: number}): Promise<void> {
    const ns = this.netns(member)
    const child = spawn(bin('ip'), ['netns', 'exec', ns, process.execPath, RESPONDER, JSON.stringify(cfg)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.children.push(child)
    return new Promise((resolve, reject) => {
      let out = ''
      let err = ''
      const timer = setTimeout(() => {
        reject(new Error(`responder ${member} not ready after 15 s: ${err}`))
      }, 15_000)
      child.stdout?.setEncoding('utf8')
      child.stderr?.setEncoding('utf8')
      child.stdout?.on('data', (d: string) => {
        out += d
        if (out.includes('READY')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.stderr?.on('data', (d: string) => {
        err += d
      })
      child.on('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`responder ${member} exited (${code ?? signal}): ${err}`))
      })
      child.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
    })
  }
}

/** The router's address inside `subnet` (its LAN address or one of its extra addresses), if any. */
function routerAddressIn(spec: TopologySpec, subnet: string): string | undefined {
  if (!spec.router) return undefined
  const candidates = [spec.router.ip, ...(spec.router.extraAddresses ?? []).map(addressOf)]
  return candidates.find((ip) => ipInCidr(ip, subnet))
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve()
  return new Promise((resolve) => {
    const hard = setTimeout(() => {
      try {
        if (child.pid) process.kill(child.pid, 'SIGKILL')
      } catch {
        // gone
      }
    }, 2_000)
    child.once('exit', () => {
      clearTimeout(hard)
      resolve()
    })
    try {
      child.kill('SIGTERM')
    } catch {
      clearTimeout(hard)
      resolve()
    }
  })
}

// ---------------------------------------------------------------------------------------------------------
// iptables-save comparison

/**
 * An iptables-save dump reduced to what a restore must preserve: table headers, chain declarations without
 * counters, rules, COMMIT; no "#" header/footer lines, no blank lines.
 */
export function normalizeIptablesSave(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith(':') ? l.replace(/\s*\[\d+:\d+\]$/, '') : l.replace(/^\[\d+:\d+\]\s+/, '')))
}

// ---------------------------------------------------------------------------------------------------------
// A leg for the test process itself (for clients that run in this process, such as an SSH client)

let legSeq = 0

/**
 * A free /24 of 198.18.0.0/15 (RFC 2544, reserved for benchmarking): no route or address of this process's
 * own network namespace overlaps it, so a LAN joined with attachTestProcessToLan shadows no real network.
 */
export async function unusedTestSubnet(): Promise<string> {
  const {stdout: routes} = await run(['ip', '-4', 'route', 'show', 'table', 'all'])
  const {stdout: addrs} = await run(['ip', '-4', '-o', 'addr', 'show'])
  const used = [...routes.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? ''), ...[...addrs.matchAll(/inet (\S+)/g)].map((m) => m[1] ?? '')]
    .filter((d) => d && d !== 'default' && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(d))
    .map((d) => (d.includes('/') ? d : `${d}/32`))
  const overlaps = (a: string, b: string) => ipInCidr(addressOf(a), b) || ipInCidr(addressOf(b), a)
  for (let i = 0; i < 512; i++) {
    const n = (process.pid + i) % 512
    const subnet = `198.${18 + (n >> 8)}.${n & 255}.0/24`
    if (!used.some((u) => overlaps(u, subnet))) return subnet
  }
  throw new Error('no free /24 in 198.18.0.0/15 for a test LAN')
}

/**
 * Puts this process's own network namespace on the topology's LAN: a veth from here into the LAN bridge,
 * with `ip`/<LAN prefix> on this end, so only the LAN subnet is routed through it. Code running in the test
 * process (not in a namespace) then reaches node addresses directly. Deleting the LAN namespace
 * (Topology.destroy, cleanupLeftovers, the exit hook) deletes the veth pair with it; detach() does it sooner.
 */
export async function attachTestProcessToLan(topo: Topology, ip: string): Promise<{ifName: string; detach(): Promise<void>}> {
  const lan = topo.netns('lan')
  if (!ipInCidr(ip, topo.spec.lanCIDR)) throw new Error(`${ip} is not in the LAN ${topo.spec.lanCIDR}`)
  legSeq += 1
  const ifName = `svct${process.pid}l${legSeq}`.slice(0, 15)
  const peer = `t${legSeq}`
  await run(['ip', 'link', 'add', ifName, 'type', 'veth', 'peer', 'name', peer, 'netns', lan])
  try {
    await run(['ip', '-n', lan, 'link', 'set', peer, 'master', 'br0'])
    await run(['ip', '-n', lan, 'link', 'set', peer, 'up'])
    // No IPv6 chatter (router solicitations, DAD) from this end into the LAN.
    await run(['sysctl', '-q', '-w', `net.ipv6.conf.${ifName}.disable_ipv6=1`]).catch(() => undefined)
    await run(['ip', 'addr', 'add', `${ip}/${cidrPrefix(topo.spec.lanCIDR)}`, 'dev', ifName])
    await run(['ip', 'link', 'set', ifName, 'up'])
  } catch (err) {
    await run(['ip', 'link', 'del', ifName]).catch(() => undefined)
    throw err
  }
  return {
    ifName,
    detach: async () => {
      await run(['ip', 'link', 'del', ifName]).catch(() => undefined)
    },
  }
}
