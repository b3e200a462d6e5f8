// --capture writes what --from reads back: every mode's files, the other iptables backend's count, and
// the nodes that could not be read (as error records, so --from shows the same error rows).
import {mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {NODE_CAPTURES, READ_ERROR_FILE} from '../../src/adapters/bundle/layout.js'
import {nodeFiles, writeBundle} from '../../src/adapters/bundle/writer.js'
import {captureText} from '../../src/core/captures.js'
import {buildReport} from '../../src/core/report.js'
import type {NodeDataplane} from '../../src/core/model.js'
import {node, pod, service, slice, view} from '../support/builders.js'
import {dataplane} from '../support/dataplane.js'

const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'svctrace-bundle-'))
  dirs.push(d)
  return d
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, {recursive: true, force: true})))

const IPTABLES = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n'
const IP6TABLES =
  '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m tcp --dport 80 -j KUBE-SVC-X\nCOMMIT\n'

const STATS = 'TCP  10.96.0.1:443   3   18   12   1080   7200\n  -> 172.18.0.2:6443   3   18   12   1080   7200\n'

describe('bundle round trip', () => {
  it.each<[string, NodeDataplane, string[]]>([
    ['iptables', dataplane('n1', {'iptables-save': IPTABLES}), ['iptables-save.txt']],
    ['dual-stack iptables', dataplane('n1', {'iptables-save': IPTABLES, 'ip6tables-save': IP6TABLES}), ['iptables-save.txt', 'ip6tables-save.txt']],
    ['IPv6-only iptables', dataplane('n1', {'ip6tables-save': IP6TABLES}), ['ip6tables-save.txt']],
    ['nftables JSON', dataplane('n1', {nft: '{"nftables": []}'}), ['nft.json']],
    ['nftables text', dataplane('n1', {nft: 'table ip kube-proxy {\n}\n'}), ['nft.txt']],
    [
      'IPVS',
      dataplane('n1', {'iptables-save': IPTABLES, ipvsadm: '-A -t 10.96.0.1:443 -s rr\n', ipset: 'create KUBE-CLUSTER-IP hash:ip,port\n'}),
      ['iptables-save.txt', 'ipvsadm.txt', 'ipset.txt'],
    ],
    ['IPVS with --counters', dataplane('n1', {ipvsadm: '-A -t 10.96.0.1:443 -s rr\n', 'ipvsadm-stats': STATS}), ['ipvsadm.txt', 'ipvsadm-stats.txt']],
    ['IPVS from a kube-proxy pod', dataplane('n1', {'proc-ip-vs': 'IP Virtual Server version 1.2.1 (size=4096)\n'}), ['ipvsadm.txt']],
    [
      'both iptables backends',
      dataplane('n1', {'iptables-save': IPTABLES}, {}, {otherIptablesBackend: {backend: 'legacy', kubeRules: 7, source: 'n1: iptables-legacy -t nat -S'}}),
      ['iptables-save.txt', 'other-iptables-backend.json'],
    ],
    [
      'a node that could not be read',
      {
        name: 'n1',
        captures: [],
        readError: 'cannot connect to n1 (192.0.2.1:22): connection refused (if nodes are reachable only through a jump host, pass --bastion user@host:port)',
      },
      ['read-error.txt'],
    ],
  ])('%s: --from reads back what --capture wrote', async (_name, dp, files) => {
    expect(nodeFiles(dp).map(([f]) => f)).toEqual(files)
    const dir = path.join(tempDir(), 'b')
    await writeBundle(dir, view({nodes: [node({name: 'n1'})]}), [dp], {capturedFrom: 'test'})
    const back = await new BundleDir(dir).read('n1')
    // The same texts come back, each under the kind the bundle file holds (/proc/net/ip_vs is kept in ipvsadm.txt).
    const kindBack = (k: string) => (k === 'proc-ip-vs' ? 'ipvsadm' : k)
    expect(back.captures.map((c) => [c.kind, captureText(c)])).toEqual(dp.captures.map((c) => [kindBack(c.kind), captureText(c)]))
    expect([back.name, back.readError, back.otherIptablesBackend]).toEqual([dp.name, dp.readError, dp.otherIptablesBackend])
  })

  it('the writer writes each capture under a name the reader reads (one layout table)', () => {
    const dp = dataplane('n1', {
      'iptables-save': IPTABLES,
      'ip6tables-save': IP6TABLES,
      nft: '{"nftables": []}',
      ipvsadm: '-A -t 10.96.0.1:443 -s rr\n',
      ipset: 'create KUBE-CLUSTER-IP hash:ip,port\n',
      conntrack:
        'udp      17 29 src=10.244.1.11 dst=10.96.0.10 sport=41001 dport=53 [UNREPLIED] src=10.244.1.5 dst=10.244.1.11 sport=53 dport=41001 mark=0 use=2\n',
      'ipvsadm-stats': STATS,
    })
    for (const c of NODE_CAPTURES) expect(c.files).toContain(c.write(dp)?.file)
    expect(NODE_CAPTURES.find((c) => c.kind === 'nftables')?.write(dataplane('n1', {nft: 'table ip kube-proxy {\n}\n'}))?.file).toBe('nft.txt')
  })

  it('a node that failed to read is kept: --from lists it and shows the same error row as the live run', async () => {
    const cluster = view({services: [service()], endpointSlices: [slice()], pods: [pod()], nodes: [node({name: 'n1'}), node({name: 'n2', ip: '192.0.2.2'})]})
    const live: NodeDataplane[] = [
      dataplane('n1', {'iptables-save': IPTABLES}),
      {
        name: 'n2',
        captures: [],
        readError:
          'RBAC does not allow create pods/exec in namespace kube-system (forbidden), needed to run commands in kube-proxy pod kube-system/kube-proxy-abcde on n2; grant the verbs create and get on pods/exec there (check with kubectl auth can-i create pods/exec -n kube-system) or use --via ssh',
      },
    ]
    const dir = path.join(tempDir(), 'b')
    await writeBundle(dir, cluster, live, {capturedFrom: 'test'})
    expect(readFileSync(path.join(dir, 'nodes', 'n2', READ_ERROR_FILE), 'utf8')).toBe(`${live[1]!.readError}\n`)
    const bundle = new BundleDir(dir)
    const {view: back} = await bundle.load()
    expect(await bundle.nodeNames()).toEqual(['n1', 'n2'])
    const read = await Promise.all(['n1', 'n2'].map((n) => bundle.read(n)))
    expect(read[1]).toEqual(live[1])
    const query = {kind: 'service', namespace: 'default', service: 'web'} as const
    const rows = (dps: NodeDataplane[]) => buildReport(query, back, dps).nodes.map(({name, mode, readError}) => ({name, mode, readError}))
    expect(rows(read)).toEqual(rows(live))
    expect(rows(read)[1]).toMatchObject({name: 'n2', readError: live[1]!.readError})
  })

  it('an empty read-error.txt still marks the node as not read', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'nodes', 'n1'), {recursive: true})
    writeFileSync(path.join(dir, 'nodes', 'n1', 'read-error.txt'), '')
    writeFileSync(path.join(dir, 'nodes', 'n1', 'iptables-save.txt'), IPTABLES)
    const back = await new BundleDir(dir).read('n1')
    expect(back).toEqual({
      name: 'n1',
      captures: [],
      readError: `the node was not read when this bundle was captured (${path.join(dir, 'nodes', 'n1', 'read-error.txt')} is empty)`,
    })
  })

  it("keeps kube-proxy's ConfigMap and DaemonSet, and no other ConfigMap", async () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {name: 'kube-proxy', namespace: 'kube-system'},
      data: {'config.conf': 'kind: KubeProxyConfiguration\nmode: ipvs\n'},
    }
    const daemonSet = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: {name: 'kube-proxy', namespace: 'kube-system'},
      spec: {selector: {}, template: {spec: {containers: [{name: 'kube-proxy', command: ['kube-proxy', '--config=/c']}]}}},
    }
    const dir = path.join(tempDir(), 'b')
    await writeBundle(dir, {...view({nodes: [node({name: 'n1'})]}), kubeProxy: {configMap, daemonSet}}, [], {})
    const other = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'coredns', namespace: 'kube-system'}, data: {}}
    const text = readFileSync(path.join(dir, 'cluster.yaml'), 'utf8').replace('items:\n', `items:\n  - ${JSON.stringify(other)}\n`)
    writeFileSync(path.join(dir, 'cluster.yaml'), text)
    const {view: back} = await new BundleDir(dir).load()
    expect(back.kubeProxy).toEqual({configMap, daemonSet})
    expect(back.nodes.map((n) => n.metadata?.name)).toEqual(['n1'])
  })

  it('counts KUBE-* rules of an iptables-legacy-save.txt beside the nft dump', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'nodes', 'n1'), {recursive: true})
    writeFileSync(path.join(dir, 'cluster.yaml'), 'apiVersion: v1\nkind: List\nitems: []\n')
    writeFileSync(path.join(dir, 'nodes', 'n1', 'iptables-save.txt'), IPTABLES)
    const legacy =
      '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-X - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-X\n-A KUBE-SVC-X -j KUBE-SEP-Y\nCOMMIT\n'
    writeFileSync(path.join(dir, 'nodes', 'n1', 'iptables-legacy-save.txt'), legacy)
    const back = await new BundleDir(dir).read('n1')
    expect(back.otherIptablesBackend).toEqual({backend: 'legacy', kubeRules: 2, source: path.join(dir, 'nodes', 'n1', 'iptables-legacy-save.txt')})
  })

  it('names the file when other-iptables-backend.json is malformed', async () => {
    const dir = tempDir()
    mkdirSync(path.join(dir, 'nodes', 'n1'), {recursive: true})
    writeFileSync(path.join(dir, 'nodes', 'n1', 'iptables-save.txt'), IPTABLES)
    writeFileSync(path.join(dir, 'nodes', 'n1', 'other-iptables-backend.json'), '{"backend": "ebpf"}')
    const back = await new BundleDir(dir).read('n1')
    expect(back.readError).toBe(
      `${path.join(dir, 'nodes', 'n1', 'other-iptables-backend.json')}: expected {"backend": "legacy" | "nft", "kubeRules": N, "source": "…"}`,
    )
  })

  it('refuses to write into a non-empty directory', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'x'), '')
    await expect(writeBundle(dir, view({}), [], {})).rejects.toThrow('the directory is not empty')
    expect(readFileSync(path.join(dir, 'x'), 'utf8')).toBe('')
  })
})
