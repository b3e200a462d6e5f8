// The live read of a dual-stack IPVS node: what the plan asks for (kube-proxy's ip6tables chains beside
// its IPVS table and ipsets, which ipvsadm -S -n and ipset save list for both families at once), read in
// one compound command through a real /bin/sh from fake node programs that answer with the dumps of
// test/fixtures/dual-stack-ipvs-v1.26, and the IPv6 path traced from what was read.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import type {BatchStep} from '../../src/adapters/node/batch.js'
import {firstRound, readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {planCollection} from '../../src/core/collection-plan.js'
import {openDataplane} from '../../src/core/dataplane.js'
import type {Query} from '../../src/core/model.js'
import {root} from '../support/cli.js'
import {fakeNodeDir, LocalShellSession} from '../support/local-shell.js'

const fixture = (...p: string[]) => path.join(root, 'test/fixtures', ...p)
const nodeFile = (f: string) => readFileSync(fixture('dual-stack-ipvs-v1.26/nodes/node-a', f), 'utf8')
const derived = (f: string) => readFileSync(fixture('samples/ipvs/derived', f), 'utf8')

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})))

async function planFor(bundle: string, query: Query) {
  const {view} = await new BundleDir(fixture(bundle)).load()
  return planCollection(indexCluster(view), query)
}

/** Every command line a round may run, branches included, as `when → command`. */
function commandLines(steps: readonly BatchStep[], when = ''): string[] {
  return steps.flatMap((s) => [
    `${when}${s.cmd.argv.join(' ')}`,
    ...(s.branches ?? []).flatMap((b) => commandLines(b.steps, `${s.cmd.argv.join(' ')} ${JSON.stringify(b.when)} → `)),
  ])
}

/** One table of an iptables-save text (`iptables-save -t TABLE` prints just that block). */
function table(save: string, name: string): string {
  const lines = save.split('\n')
  const start = lines.indexOf(`*${name}`)
  return `${lines.slice(start, lines.indexOf('COMMIT', start) + 1).join('\n')}\n`
}

const api6: Query = {kind: 'service', namespace: 'default', service: 'api6'}
const PROC_HAS_SERVERS = '{"printed":["TCP  ","UDP  ","SCTP ","FWM  "]} → '

describe('the plan for an IPv6 Service on an IPVS node', () => {
  it('a one-Service trace of an IPv6 Service lists its ip6tables chains, and reads the IPVS table and ipsets (both families in one listing)', async () => {
    const plan = await planFor('dual-stack-ipvs-v1.26', api6)
    expect([plan.full, plan.ipv6]).toEqual([false, true])
    const lines = commandLines(firstRound(plan))
    expect(lines).toContain('ip6tables -V')
    expect(lines).toContain('ip6tables -V {"always":true} → ip6tables -w 5 -t nat -S KUBE-SERVICES')
    expect(lines).not.toContain('ip6tables-save')
    expect(lines).toContain('cat /proc/net/ip_vs')
    expect(lines).toContain(`cat /proc/net/ip_vs ${PROC_HAS_SERVERS}ipvsadm -S -n`)
    expect(lines).toContain(`cat /proc/net/ip_vs ${PROC_HAS_SERVERS}ipset save`)
  })

  it('-A over a view with a dual-stack Service reads ip6tables-save whole too', async () => {
    const plan = await planFor('dual-stack-ipvs-v1.26', {kind: 'all'})
    expect([plan.full, plan.ipv6]).toEqual([true, true])
    expect(commandLines(firstRound(plan))).toContain('ip6tables-save')
  })

  it('an IPv4-only cluster does not ask for ip6tables-save', async () => {
    const plan = await planFor('healthy/ipvs-nodeport-cluster', {kind: 'service', namespace: 'ns1', service: 'svc1'})
    expect(plan.ipv6).toBe(false)
    expect(commandLines(firstRound(plan))).not.toContain('ip6tables-save')
  })
})

describe('reading and tracing a dual-stack IPVS node live', () => {
  const v4 = nodeFile('iptables-save.txt')
  const v6 = nodeFile('ip6tables-save.txt')
  const kubeServices = (save: string) => ['-N KUBE-SERVICES', ...save.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES ')), ''].join('\n')
  const node = (ipvsadm: boolean) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-ipvs6-'))
    dirs.push(dir)
    return fakeNodeDir(dir, {
      'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'},
      // A small KUBE-SERVICES: the targeted read takes nat and filter whole.
      'iptables -w 5 -t nat -S KUBE-SERVICES': {stdout: kubeServices(v4)},
      'iptables-save -t nat': {stdout: table(v4, 'nat')},
      'iptables-save -t filter': {stdout: table(v4, 'filter')},
      'iptables-save': {stdout: v4},
      'ip6tables -V': {stdout: 'ip6tables v1.8.9 (nf_tables)\n'},
      'ip6tables -w 5 -t nat -S KUBE-SERVICES': {stdout: kubeServices(v6)},
      'ip6tables-save -t nat': {stdout: table(v6, 'nat')},
      'ip6tables-save -t filter': {stdout: table(v6, 'filter')},
      'ip6tables-save': {stdout: v6},
      'cat /proc/net/ip_vs': {stdout: derived('dual-stack-ipvs-v1.26.proc-net-ip_vs.txt')},
      ...(ipvsadm ? {'ipvsadm -S -n': {stdout: derived('dual-stack-ipvs-v1.26.ipvsadm-save.txt')}} : {}),
      'ipset save': {stdout: nodeFile('ipset.txt')},
    })
  }
  const trace6 = (dp: Awaited<ReturnType<typeof readNodeDataplane>>) =>
    openDataplane(dp).trace!({
      node: {name: 'node-a', addresses: ['192.168.49.2', 'fd00:192:168:49::2']},
      destination: {ip: 'fd00:10:96::b6', port: 443, protocol: 'TCP'},
      from: 'pod',
      source: 'fd00:10:244::99',
      podNetworks: ['10.244.0.0/24', 'fd00:10:244::/64'],
    })

  it('one exec channel reads the ip6tables rules (small: nat and filter whole), ipvsadm -S -n and ipset save; the IPv6 cluster IP is traced to its one real server', async () => {
    const session = new LocalShellSession(node(true))
    const dp = await readNodeDataplane(session, 'node-a', await planFor('dual-stack-ipvs-v1.26', api6))
    expect(session.channels).toBe(1)
    expect(dp.captures.map((c) => `${c.kind} from ${c.source}`).sort()).toEqual([
      'ip6tables-save from node-a: ip6tables -S (targeted: nat, filter whole in 1 round; KUBE-SERVICES is small: nat and filter whole cost no more than listing chains)',
      'ipset from node-a: ipset save',
      'iptables-save from node-a: iptables -S (targeted: nat, filter whole in 1 round; KUBE-SERVICES is small: nat and filter whole cost no more than listing chains)',
      'ipvsadm from node-a: ipvsadm -S -n',
    ])
    expect(openDataplane(dp).mode).toBe('ipvs')
    const trace = trace6(dp)
    expect(trace.outcomes.map((o) => [o.verdict, o.dnat?.ip, o.dnat?.port, o.probability])).toEqual([['dnat', 'fd00:10:244::20', 8443, 1]])
    expect(trace.outcomes[0]?.hops.map((h) => h.rule)).toContain('-A KUBE-SERVICES -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j ACCEPT')
  })

  it("a node without ipvsadm (kube-proxy's image): the kernel's /proc/net/ip_vs gives the same IPv6 path", async () => {
    const dp = await readNodeDataplane(new LocalShellSession(node(false)), 'node-a', await planFor('dual-stack-ipvs-v1.26', api6))
    expect(dp.captures.map((c) => c.kind)).toContain('proc-ip-vs')
    expect(trace6(dp).outcomes.map((o) => [o.verdict, o.dnat?.ip, o.dnat?.port, o.probability])).toEqual([['dnat', 'fd00:10:244::20', 8443, 1]])
  })
})
