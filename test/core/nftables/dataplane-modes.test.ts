// Which mode a node runs, told from what it holds, and what happens when it holds two: the finding,
// and the order the kernel consults the rules in. Also userspace mode, IPVS without its table, and
// a bundle directory with each mode's files.
import {mkdtempSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {BundleDir, MAX_NODE_FILE_BYTES} from '../../../src/adapters/bundle/reader.js'
import {openDataplane} from '../../../src/core/dataplane.js'
import type {TraceRequest as IptablesTraceRequest} from '../../../src/core/trace/branch.js'
import type {CaptureKind} from '../../../src/core/model.js'
import {noteLines} from '../../support/notes.js'
import {captureText, dataplane} from '../../support/dataplane.js'
import {first} from '../../support/defined.js'

const fixtures = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url))
const read = (f: string) => readFileSync(fixtures + f, 'utf8')

const IPT_OVERALL = read('iptables-overall-mixed.txt')
const IPT_NODEPORT = read('iptables-1.26-nodeport.txt')
const NFT_BAD_IPS = read('nftables/rendered/nftables-lb-source-ranges-bad-ips.nft.json')
const IPVS = {
  ipvsadm: read('ipvs/overall-mixed/ipvsadm-save.txt'),
  ipset: read('ipvs/overall-mixed/ipset-save.txt'),
  'iptables-save': read('ipvs/overall-mixed/iptables-save.txt'),
}

const USERSPACE = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':KUBE-NODEPORT-CONTAINER - [0:0]',
  ':KUBE-NODEPORT-HOST - [0:0]',
  ':KUBE-PORTALS-CONTAINER - [0:0]',
  ':KUBE-PORTALS-HOST - [0:0]',
  '-A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER',
  '-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "handle service NodePorts; NOTE: this must be the last rule in the chain" -j KUBE-NODEPORT-CONTAINER',
  '-A OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-HOST',
  '-A KUBE-NODEPORT-CONTAINER -p tcp -m comment --comment "default/web:" -m tcp --dport 30080 -j REDIRECT --to-ports 41000',
  '-A KUBE-PORTALS-CONTAINER -d 10.0.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp --dport 53 -j REDIRECT --to-ports 38107',
  '-A KUBE-PORTALS-HOST -d 10.0.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp --dport 53 -j DNAT --to-destination 10.240.0.4:38107',
  'COMMIT',
  '',
].join('\n')

function request(ip: string, port: number, from: IptablesTraceRequest['from'], source?: string, protocol: 'TCP' | 'UDP' = 'TCP'): IptablesTraceRequest {
  return {
    node: {name: 'n1', addresses: ['192.168.0.2']},
    destination: {ip, port, protocol},
    from,
    ...(source !== undefined ? {source} : {}),
    podNetworks: ['10.0.0.0/8'],
  }
}

const open = (texts: Partial<Record<CaptureKind, string>>, sources: Partial<Record<CaptureKind, string>> = {}) => openDataplane(dataplane('n1', texts, sources))
const ids = (o: ReturnType<typeof openDataplane>) => o.findings.map((f) => f.id)

describe('one mode per node', () => {
  it.each([
    ['iptables', {'iptables-save': IPT_OVERALL}],
    ['nftables', {nft: NFT_BAD_IPS}],
    ['ipvs', IPVS],
    ['ipvs', {'proc-ip-vs': read('ipvs/derived/ipvs-readme.proc-net-ip_vs.txt')}],
  ])('%s', (mode, dp) => {
    const o = open(dp)
    expect([o.mode, o.modes.map((m) => m.mode), ids(o), typeof o.trace]).toEqual([mode, [mode], [], 'function'])
  })

  it('IPVS told from the ipsets and rules alone: named, but not traced without the IPVS table', () => {
    const o = open({'iptables-save': IPVS['iptables-save'], ipset: IPVS.ipset})
    expect([o.mode, o.trace]).toEqual(['ipvs', undefined])
    expect(o.findings[0]).toMatchObject({id: 'proxy-mode-not-traced', severity: 'warning'})
    expect(first(o.findings).message).toMatch(
      /IPVS mode \(.*non-empty KUBE-\* ipsets.*nat KUBE-SERVICES matches ipsets.*\) but no IPVS table was read: capture ipvsadm -Sn/,
    )
  })
})

describe('rules of two modes on one node', () => {
  it('iptables and nftables: a finding with the evidence; the first mode that takes the packet gives the path', () => {
    const o = open({'iptables-save': IPT_NODEPORT, nft: NFT_BAD_IPS}, {'iptables-save': 'iptables-save.txt', nft: 'nft.json'})
    expect(o.mode).toBe('nftables')
    const mixed = o.findings.find((f) => f.id === 'proxy-modes-mixed')!
    expect(mixed.severity).toBe('warning')
    expect(mixed.evidence).toEqual([
      'nftables: table ip kube-proxy (20 chains) in nft.json',
      'iptables: 3 KUBE-SVC/SEP/… chains in the nat table of iptables-save.txt',
    ])
    // 172.30.0.41:80 is in both: iptables (its DNAT at priority -100) is tried first.
    const both = o.trace!(request('172.30.0.41', 80, 'pod', '10.244.0.5'))
    expect(both.outcomes.map((o) => [o.verdict, o.dnat?.chain])).toEqual([['dnat', 'KUBE-SEP-SXIVWICOYRO3J4NJ']])
    expect(noteLines(both.notes)).toMatch(
      /also holds nftables rules; this path was traced through the iptables rules; iptables and nftables nat chains both run at priority -100/,
    )
    // 1.2.3.4 is only in the nftables table: iptables lets it pass, nftables DNATs it.
    const nftOnly = o.trace!(request('1.2.3.4', 80, 'external', '203.0.113.10'))
    expect(nftOnly.outcomes.filter((x) => x.verdict === 'dnat').map((x) => x.dnat!.chain)).toEqual(['endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80'])
    expect(noteLines(nftOnly.notes)).toMatch(/traced through the nftables rules/)
  })

  it('iptables-mode leftovers on an IPVS node take the packet before IPVS does', () => {
    const stale = IPVS['iptables-save']
      .replace(
        ':KUBE-SERVICES - [0:0]\n',
        ':KUBE-SERVICES - [0:0]\n:KUBE-SVC-STALE0000000000 - [0:0]\n:KUBE-SEP-STALE0000000000 - [0:0]\n-A KUBE-SVC-STALE0000000000 -j KUBE-SEP-STALE0000000000\n-A KUBE-SEP-STALE0000000000 -p tcp -j DNAT --to-destination 10.180.9.9:80\n',
      )
      .replace(
        '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN\n',
        '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN\n-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-STALE0000000000\n',
      )
    const o = open({...IPVS, 'iptables-save': stale})
    expect([o.mode, o.modes.map((m) => m.mode)]).toEqual(['ipvs', ['ipvs', 'iptables']])
    expect(ids(o)).toEqual(['proxy-modes-mixed'])
    const t = o.trace!(request('172.30.0.41', 80, 'pod', '10.244.0.5'))
    expect(t.outcomes.map((x) => `${x.verdict} ${x.dnat?.ip}`)).toEqual(['dnat 10.180.9.9'])
    expect(noteLines(first(t.outcomes).notes)).toMatch(/an iptables DNAT rule took the packet before IPVS could/)
    // Other Services still go through IPVS.
    expect(o.trace!(request('172.30.0.43', 80, 'pod', '10.244.0.5')).outcomes.map((x) => x.dnat?.chain)).toEqual(['ipvs 172.30.0.43:80/TCP'])
  })
})

describe('userspace mode (before v1.26)', () => {
  const o = open({'iptables-save': USERSPACE}, {'iptables-save': 'iptables-save.txt'})
  it('is recognised from KUBE-PORTALS-* and reported plainly', () => {
    expect(o.mode).toBe('userspace')
    expect(o.findings).toHaveLength(1)
    expect(first(o.findings).id).toBe('proxy-mode-userspace')
    expect(first(o.findings).message).toMatch(
      /redirected to kube-proxy itself, which picks the backend in-process \(round-robin\); no dump shows which backend/,
    )
  })

  it.each([
    [
      "a pod to the DNS clusterIP ends at kube-proxy's port (REDIRECT)",
      request('10.0.0.10', 53, 'pod', '10.244.0.5', 'UDP'),
      '192.168.0.2:38107 KUBE-PORTALS-CONTAINER',
    ],
    ['the node itself (DNAT to its own address)', request('10.0.0.10', 53, 'node', '192.168.0.2', 'UDP'), '10.240.0.4:38107 KUBE-PORTALS-HOST'],
    ['a NodePort from outside', request('192.168.0.2', 30080, 'external', '198.51.100.7'), '192.168.0.2:41000 KUBE-NODEPORT-CONTAINER'],
  ])('%s', (_what, req, expected) => {
    const t = o.trace!(req)
    expect(t.outcomes.map((x) => `${x.dnat?.ip}:${x.dnat?.port} ${x.dnat?.chain}`)).toEqual([expected])
    expect(noteLines(first(t.outcomes).notes.slice(0, 1))).toMatch(/picks in-process \(round-robin\); no dump shows which backend/)
  })

  it('an address no portal rule covers is not a service', () => {
    expect(o.trace!(request('10.0.0.99', 80, 'pod', '10.244.0.5')).outcomes.map((x) => x.verdict)).toEqual(['no-match'])
  })
})

describe('nodes that cannot be traced', () => {
  it('nothing read: the message of before', () => {
    const o = open({})
    expect([o.mode, o.readError, ids(o)]).toEqual(['unknown', 'no iptables-save output was read from this node', ['node-unreadable']])
  })

  it('one unreadable dump makes the node unreadable, with the line', () => {
    const o = open({'iptables-save': IPT_OVERALL, nft: 'table ip kube-proxy {\n\tchain services {\n'}, {nft: 'nodes/n1/nft.txt'})
    expect(o.readError).toMatch(/^nodes\/n1\/nft\.txt:\d+: chain services \(line 2\) is not closed/)
    expect(first(o.findings).message).toBe(o.readError)
  })

  it('an nft ruleset of iptables-nft tables only: no kube-proxy rules, and a hint', () => {
    const o = open({nft: 'table ip nat {\n\tchain KUBE-SERVICES {\n\t}\n}\n'}, {nft: 'nft.txt'})
    expect(o.mode).toBe('none')
    expect(first(o.findings).message).toBe(
      'n1: no kube-proxy rules in nft.txt: no KUBE-SERVICES chain in nat, no table ip kube-proxy, no IPVS virtual server; the nft ruleset holds iptables-nft tables with KUBE-SERVICES, so kube-proxy runs in iptables mode: capture iptables-save',
    )
  })
})

describe("a bundle directory with each mode's files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-bundle-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const put = (node: string, files: Record<string, string>) => {
    mkdirSync(path.join(dir, 'nodes', node), {recursive: true})
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, 'nodes', node, f), text)
  }
  put('nft-node', {'nft.json': NFT_BAD_IPS, 'nft.txt': 'ignored: the JSON wins'})
  put('ipvs-node', {'ipvsadm.txt': IPVS.ipvsadm, 'ipset.txt': IPVS.ipset, 'iptables-save.txt': IPVS['iptables-save']})
  put('empty-node', {})
  const bundle = new BundleDir(dir)

  it('reads nft.json (before nft.txt) without iptables-save.txt', async () => {
    const dp = await bundle.read('nft-node')
    expect([dp.readError, captureText(dp, 'nft') === NFT_BAD_IPS, dp.captures.find((c) => c.kind === 'nft')?.source, captureText(dp, 'iptables-save')]).toEqual(
      [undefined, true, path.join(dir, 'nodes/nft-node/nft.json'), undefined],
    )
    expect(openDataplane(dp).mode).toBe('nftables')
  })

  it('reads ipvsadm.txt, ipset.txt and iptables-save.txt', async () => {
    const dp = await bundle.read('ipvs-node')
    expect((['ipvsadm', 'ipset', 'iptables-save'] as const).map((k) => dp.captures.find((c) => c.kind === k)?.source)).toEqual(
      ['ipvsadm.txt', 'ipset.txt', 'iptables-save.txt'].map((f) => path.join(dir, 'nodes/ipvs-node', f)),
    )
    expect(openDataplane(dp).mode).toBe('ipvs')
  })

  it('a node with none of the files says what to capture for each mode', async () => {
    expect((await bundle.read('empty-node')).readError).toMatch(
      /iptables-save\.txt not found: capture it on the node with: iptables-save > iptables-save\.txt \(IPv6 Services: also ip6tables-save > ip6tables-save\.txt; nftables mode: nft -j list table ip kube-proxy > nft\.json; IPVS mode: also ipvsadm -Sn > ipvsadm\.txt and ipset save > ipset\.txt\)/,
    )
  })

  it('keeps the size cap for every file', async () => {
    put('big-node', {'iptables-save.txt': IPT_OVERALL})
    const f = path.join(dir, 'nodes/big-node/ipset.txt')
    writeFileSync(f, '')
    truncateSync(f, MAX_NODE_FILE_BYTES + 1)
    expect((await bundle.read('big-node')).readError).toMatch(/ipset\.txt is 256 MiB, over the 256 MiB a node may return; capture only kube-proxy's sets/)
  })
})
