// An IPv6 network of Linux network namespaces, for loading kube-proxy's ip6tables rules into a real
// netfilter and probing them with real IPv6 TCP connections. netns.ts's Topology is IPv4 only (it
// turns IPv6 off in every namespace); this is its IPv6 sibling, kept small:
//
//   <prefix>lan      a bridge "br0" (L2 only): the node network
//   <prefix>node-X   eth0 with the node's address/64 on the LAN, IPv6 forwarding on, its own routes
//   <prefix>host-X   plain hosts on the LAN (outside clients): a LAN address plus extra /128s, own routes
//   <prefix>pod-…    ptp, Calico style: eth0 with podIP/128 and "default via fe80::1"; the node side is
//                    a veth holding fe80::1 with a podIP/128 route; a responder answers on the pod's ports
//
// Duplicate address detection is off (addresses are usable at once) and nodes send every ICMPv6 error
// (a REJECT must not look like a drop to later probes). Namespaces are `svct-<pid>-…` like netns.ts's,
// so cleanupLeftovers() removes those of dead runs; destroy() removes these. Traffic stays inside.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {NS_PREFIX, run, which, type ConnectResult} from './netns.js'

const RESPONDER = fileURLToPath(new URL('./netns-responder.mjs', import.meta.url))
const PROBE = fileURLToPath(new URL('./netns-probe.mjs', import.meta.url))
const POD_GATEWAY = 'fe80::1'

export interface Route6 {
  to: string
  via: string
}

export interface Topology6Spec {
  /** The LAN prefix length of node and host addresses. */
  lanPrefix: number
  nodes: Array<{name: string; ip: string; routes: Route6[]}>
  hosts: Array<{name: string; ip: string; extra?: string[]; routes: Route6[]}>
  /** name "namespace/pod", its IPv6 address, its node, the TCP ports its responder answers on. */
  pods: Array<{name: string; ip: string; node: string; ports: number[]}>
}

let seq = 0
const live = new Set<Topology6>()
// Last resort when destroy() never ran (a worker torn down): delete the namespaces synchronously.
process.on('exit', () => {
  for (const t of live) t.destroySync()
})

export class Topology6 {
  private readonly prefix = `${NS_PREFIX}${process.pid}-6n${++seq}-`
  private readonly byName = new Map<string, string>()
  private readonly created: string[] = []
  private readonly children: ChildProcess[] = []

  private constructor(readonly spec: Topology6Spec) {}

  /** Builds the network; on failure removes what was made and rethrows. */
  static async create(spec: Topology6Spec): Promise<Topology6> {
    const t = new Topology6(spec)
    live.add(t)
    try {
      await t.build()
      return t
    } catch (err) {
      await t.destroy().catch(() => undefined)
      throw err
    }
  }

  netns(name: string): string {
    const ns = this.byName.get(name)
    if (!ns) throw new Error(`no member ${name}`)
    return ns
  }

  exec(name: string, argv: string[], input?: string, timeoutMs?: number): Promise<{stdout: string; stderr: string}> {
    const [program = '', ...args] = argv
    const opts = {...(input !== undefined ? {input} : {}), ...(timeoutMs !== undefined ? {timeoutMs} : {})}
    return run(['ip', 'netns', 'exec', this.netns(name), which(program) ?? program, ...args], opts)
  }

  /**
   * `attempts` TCP connections, one at a time, from a member to [dst]:port, as netns.ts's Topology.connect
   * reports them. `timeoutMs` is the time one handshake gets: past 1 s the client's SYN retransmission is
   * included, which a REJECT needs here (the ICMPv6 error to the first SYN comes back while connect()
   * still holds the socket, so the kernel keeps it as a soft error; the one to the retransmission refuses).
   */
  async connect(from: string, dst: string, port: number, opts: {attempts: number; timeoutMs: number}): Promise<ConnectResult> {
    const {attempts, timeoutMs} = opts
    const cfg = {dst, port, attempts, timeoutMs, silentMs: 500, concurrency: 1, deadlineMs: attempts * (timeoutMs + 500) + 2_000}
    const {stdout} = await this.exec(from, [process.execPath, PROBE, JSON.stringify(cfg)], undefined, cfg.deadlineMs + 5_000)
    const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {attempts?: ConnectResult['attempts']}
    const list = parsed.attempts ?? []
    const counts: ConnectResult['counts'] = {}
    for (const a of list) counts[a.kind] = (counts[a.kind] ?? 0) + 1
    const answered = list.filter((a) => a.kind === 'answered')
    const uniq = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => Boolean(x)))].sort()
    const kinds = Object.keys(counts) as Array<keyof typeof counts>
    return {
      from,
      dst,
      port,
      attempts: list,
      counts,
      answeredBy: uniq(answered.map((a) => a.id)),
      backends: uniq(answered.map((a) => a.local)),
      peerIPs: uniq(answered.map((a) => a.peer?.replace(/:\d+$/, ''))),
      outcome: kinds.length === 1 ? (kinds[0] ?? 'mixed') : 'mixed',
      elapsedMs: 0,
    }
  }

  /** Stops the responders and deletes every namespace made. */
  async destroy(): Promise<void> {
    live.delete(this)
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const ns of this.created.splice(0).reverse()) await run(['ip', 'netns', 'del', ns]).catch(() => undefined)
  }

  /** destroy(), synchronously, for process exit. */
  destroySync(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const ns of this.created.splice(0).reverse()) {
      try {
        execFileSync(which('ip') ?? 'ip', ['netns', 'del', ns], {stdio: 'pipe'})
      } catch {
        // already gone
      }
    }
  }

  private async add(name: string, role: string): Promise<string> {
    const ns = `${this.prefix}${role}`.slice(0, 60)
    await run(['ip', 'netns', 'add', ns])
    this.created.push(ns)
    this.byName.set(name, ns)
    // Before any interface exists, so new ones inherit it: no DAD delay, no router solicitations.
    await this.sysctl(ns, {'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0, 'net.ipv6.conf.default.accept_ra': 0})
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    return ns
  }

  private sysctl(ns: string, kv: Record<string, number>): Promise<unknown> {
    return run(['ip', 'netns', 'exec', ns, which('sysctl') ?? 'sysctl', '-q', '-w', ...Object.entries(kv).map(([k, v]) => `${k}=${v}`)])
  }

  private async build(): Promise<void> {
    const lan = await this.add('lan', 'lan')
    await run(['ip', '-n', lan, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'])
    await run(['ip', '-n', lan, 'link', 'set', 'br0', 'up'])
    await this.sysctl(lan, {'net.bridge.bridge-nf-call-ip6tables': 0}).catch(() => undefined)
    let port = 0
    const attach = async (ns: string, addresses: string[]) => {
      const lanIf = `p${++port}`
      await run(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', lanIf, 'netns', lan])
      await run(['ip', '-n', lan, 'link', 'set', lanIf, 'master', 'br0'])
      await run(['ip', '-n', lan, 'link', 'set', lanIf, 'up'])
      for (const a of addresses) await run(['ip', '-n', ns, '-6', 'addr', 'add', a, 'dev', 'eth0', 'nodad'])
      await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
    }
    const route = (ns: string, r: Route6) => run(['ip', '-n', ns, '-6', 'route', 'add', r.to, 'via', r.via])
    for (const n of this.spec.nodes) {
      const ns = await this.add(n.name, `node-${n.name}`)
      await this.sysctl(ns, {'net.ipv6.conf.all.forwarding': 1, 'net.ipv6.icmp.ratelimit': 0})
      await attach(ns, [`${n.ip}/${this.spec.lanPrefix}`])
    }
    for (const h of this.spec.hosts) {
      const ns = await this.add(h.name, `host-${h.name}`)
      await attach(ns, [`${h.ip}/${this.spec.lanPrefix}`, ...(h.extra ?? []).map((a) => `${a}/128`)])
    }
    // Routes once every LAN address exists (a gateway must be on-link).
    for (const m of [...this.spec.nodes, ...this.spec.hosts]) for (const r of m.routes) await route(this.netns(m.name), r)
    const veths = new Map<string, number>()
    for (const p of this.spec.pods) {
      const nodeNs = this.netns(p.node)
      const ns = await this.add(p.name, `pod-${p.name.replace(/\//g, '.')}`)
      const hostIf = `cali${veths.get(p.node) ?? 0}`
      veths.set(p.node, (veths.get(p.node) ?? 0) + 1)
      await run(['ip', '-n', nodeNs, 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      await run(['ip', '-n', nodeNs, '-6', 'addr', 'add', `${POD_GATEWAY}/64`, 'dev', hostIf, 'nodad'])
      await run(['ip', '-n', nodeNs, 'link', 'set', hostIf, 'up'])
      await run(['ip', '-n', nodeNs, '-6', 'route', 'add', `${p.ip}/128`, 'dev', hostIf])
      await run(['ip', '-n', ns, '-6', 'addr', 'add', `${p.ip}/128`, 'dev', 'eth0', 'nodad'])
      await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
      await run(['ip', '-n', ns, '-6', 'route', 'add', 'default', 'via', POD_GATEWAY, 'dev', 'eth0'])
    }
    await Promise.all(this.spec.pods.filter((p) => p.ports.length > 0).map((p) => this.respond(p.name, p.ports)))
  }

  private respond(name: string, ports: number[]): Promise<void> {
    const cfg = {id: name, ports, mode: 'answer', host: '::', ttlMs: 10 * 60_000}
    const child = spawn(which('ip') ?? 'ip', ['netns', 'exec', this.netns(name), process.execPath, RESPONDER, JSON.stringify(cfg)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.children.push(child)
    return new Promise((resolve, reject) => {
      let out = ''
      let err = ''
      const timer = setTimeout(() => reject(new Error(`responder ${name} not ready after 15 s: ${err}`)), 15_000)
      child.stdout?.on('data', (d: Buffer) => {
        out += String(d)
        if (out.includes('READY')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.stderr?.on('data', (d: Buffer) => {
        err += String(d)
      })
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`responder ${name} exited (${code}): ${err}`))
      })
    })
  }
}
