// --capture writes what --from reads back: every mode's files, and the other iptables backend's count.
import {mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {BundleDir, countKubeRules} from '../../src/adapters/bundle/reader.js'
import {nodeFiles, writeBundle} from '../../src/adapters/bundle/writer.js'
import type {NodeDataplane} from '../../src/core/model.js'
import {node, view} from '../support/builders.js'

const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'svctrace-bundle-'))
  dirs.push(d)
  return d
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, {recursive: true, force: true})))

const IPTABLES = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n'

describe('bundle round trip', () => {
  it.each<[string, NodeDataplane, string[]]>([
    ['iptables', {name: 'n1', iptablesSave: IPTABLES}, ['iptables-save.txt']],
    ['nftables JSON', {name: 'n1', nft: '{"nftables": []}'}, ['nft.json']],
    ['nftables text', {name: 'n1', nft: 'table ip kube-proxy {\n}\n'}, ['nft.txt']],
    ['IPVS', {name: 'n1', iptablesSave: IPTABLES, ipvsadm: '-A -t 10.96.0.1:443 -s rr\n', ipset: 'create KUBE-CLUSTER-IP hash:ip,port\n'}, ['iptables-save.txt', 'ipvsadm.txt', 'ipset.txt']],
    ['IPVS from a kube-proxy pod', {name: 'n1', procIpVs: 'IP Virtual Server version 1.2.1 (size=4096)\n'}, ['ipvsadm.txt']],
    ['both iptables backends', {name: 'n1', iptablesSave: IPTABLES, otherIptablesBackend: {backend: 'legacy', kubeRules: 7, source: 'n1: iptables-legacy -t nat -S'}}, ['iptables-save.txt', 'other-iptables-backend.json']],
  ])('%s: --from reads back what --capture wrote', async (_name, dp, files) => {
    expect(nodeFiles(dp).map(([f]) => f)).toEqual(files)
    const dir = path.join(tempDir(), 'b')
    await writeBundle(dir, view({nodes: [node({name: 'n1'})]}), [dp], {capturedFrom: 'test'})
    const back = await new BundleDir(dir).read('n1')
    const {name, ...fields} = dp
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'procIpVs') expect(back.ipvsadm).toBe(v)
      else expect(back[k as keyof NodeDataplane]).toEqual(v)
    }
    expect(back.name).toBe(name)
  })

  it('keeps kube-proxy\'s ConfigMap and DaemonSet, and no other ConfigMap', async () => {
    const configMap = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'kube-proxy', namespace: 'kube-system'}, data: {'config.conf': 'kind: KubeProxyConfiguration\nmode: ipvs\n'}}
    const daemonSet = {apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {name: 'kube-proxy', namespace: 'kube-system'}, spec: {selector: {}, template: {spec: {containers: [{name: 'kube-proxy', command: ['kube-proxy', '--config=/c']}]}}}}
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
    const legacy = '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-X - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -d 10.96.0.1/32 -j KUBE-SVC-X\n-A KUBE-SVC-X -j KUBE-SEP-Y\nCOMMIT\n'
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
    expect(back.readError).toBe(`${path.join(dir, 'nodes', 'n1', 'other-iptables-backend.json')}: expected {"backend": "legacy" | "nft", "kubeRules": N, "source": "…"}`)
  })

  it.each([
    ['', 0],
    ['-A KUBE-SERVICES -j X\n', 1],
    ['-A PREROUTING -m comment --comment "-A KUBE-X" -j KUBE-SERVICES\n-A KUBE-A -j B\n', 1],
  ])('countKubeRules(%j) = %d', (text, n) => {
    expect(countKubeRules(text)).toBe(n)
  })

  it('refuses to write into a non-empty directory', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'x'), '')
    await expect(writeBundle(dir, view({}), [], {})).rejects.toThrow('the directory is not empty')
    expect(readFileSync(path.join(dir, 'x'), 'utf8')).toBe('')
  })
})
