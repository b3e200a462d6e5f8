import {describe, expect, it} from 'vitest'
import type {V1ConfigMap, V1DaemonSet} from '@kubernetes/client-node'
import {configuredMode, modeConfigFindings, modeInArgs, modeInConfig} from '../../src/core/proxy-config.js'
import type {NodeReport} from '../../src/core/model.js'
import {defined, first} from '../support/defined.js'

const KUBEADM = (mode: string) => `apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
ipvs:
  scheduler: ""
  mode: nested-not-this-one
kind: KubeProxyConfiguration
${mode}
nodePortAddresses: null
`

const configMap = (text: string, key = 'config.conf'): V1ConfigMap => ({
  kind: 'ConfigMap',
  metadata: {name: 'kube-proxy', namespace: 'kube-system'},
  data: {[key]: text, 'kubeconfig.conf': 'apiVersion: v1\nkind: Config\n'},
})
const daemonSet = (command: string[]): V1DaemonSet => ({
  kind: 'DaemonSet',
  metadata: {name: 'kube-proxy', namespace: 'kube-system'},
  spec: {selector: {}, template: {spec: {containers: [{name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.30.0', command}]}}},
})
const node = (name: string, mode: NodeReport['mode'], readError?: string): NodeReport => ({name, mode, paths: [], ...(readError ? {readError} : {})})

describe('the mode kube-proxy is configured with', () => {
  it.each([
    ['mode: "ipvs"', 'ipvs'],
    ["mode: 'nftables'", 'nftables'],
    ['mode: iptables   # set by kubeadm', 'iptables'],
    ['mode: ""', ''],
    ['', ''],
  ])('%j in a kubeadm config.conf → %j (nested ipvs.mode ignored)', (line, mode) => {
    expect(modeInConfig(KUBEADM(line))).toBe(mode)
  })

  it('reads JSON configs and ignores data that is not a KubeProxyConfiguration', () => {
    expect(modeInConfig('{"kind": "KubeProxyConfiguration", "mode": "ipvs"}')).toBe('ipvs')
    expect(modeInConfig('apiVersion: v1\nkind: Config\nmode: ipvs\n')).toBeUndefined()
  })

  it.each([
    [['/usr/local/bin/kube-proxy', '--proxy-mode=ipvs'], 'ipvs'],
    [['kube-proxy', '--proxy-mode', 'nftables', '--v=2'], 'nftables'],
    [['kube-proxy', '--v=2'], undefined],
  ])('flags %j → %j', (words, mode) => {
    expect(modeInArgs(words)).toBe(mode)
  })

  it('an empty mode is iptables, with where it was read', () => {
    expect(configuredMode({configMap: configMap(KUBEADM('mode: ""'))})).toEqual({
      mode: 'iptables',
      evidence: ['ConfigMap kube-system/kube-proxy config.conf: mode: ""'],
    })
  })

  it('a --proxy-mode flag wins without --config, and is ignored next to --config', () => {
    const cm = configMap(KUBEADM('mode: "ipvs"'))
    expect(configuredMode({configMap: cm, daemonSet: daemonSet(['kube-proxy', '--proxy-mode=nftables'])})?.mode).toBe('nftables')
    const both = configuredMode({configMap: cm, daemonSet: daemonSet(['kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--proxy-mode=nftables'])})
    expect(both?.mode).toBe('ipvs')
    expect(both?.evidence[1]).toBe(
      'DaemonSet kube-system/kube-proxy container kube-proxy: --proxy-mode=nftables (ignored: with --config kube-proxy takes every setting but logging from the file)',
    )
    expect(configuredMode({daemonSet: daemonSet(['kube-proxy', '--config', '/c', '--proxy-mode', 'ipvs'])})).toBeUndefined()
  })

  it('says nothing when the API shows no mode', () => {
    expect(configuredMode(undefined)).toBeUndefined()
    expect(configuredMode({daemonSet: daemonSet(['kube-proxy', '--config=/c'])})).toBeUndefined()
    expect(modeConfigFindings(undefined, [node('a', 'iptables')])).toEqual([])
  })
})

describe('nodes against the configured mode', () => {
  const ipvs = {configMap: configMap(KUBEADM('mode: "ipvs"'))}

  it('flags each node whose rules show another mode, and only those', () => {
    const findings = modeConfigFindings(ipvs, [node('a', 'ipvs'), node('b', 'iptables'), node('c', 'none'), node('d', 'unknown', 'ssh: connection refused')])
    expect(findings.map((f) => [f.id, f.node])).toEqual([['proxy-mode-differs-from-config', 'b']])
    expect(first(findings).message).toBe(
      'b runs kube-proxy in iptables mode, but it is configured for ipvs: kube-proxy on this node has not restarted since the change, or runs with other settings (kube-proxy up to v1.25 fell back to iptables when the ip_vs kernel modules were missing; check its log)',
    )
    expect(first(findings).evidence).toEqual(['ConfigMap kube-system/kube-proxy config.conf: mode: "ipvs"'])
  })

  it('an unknown mode is an error of its own', () => {
    const [f, ...rest] = modeConfigFindings({configMap: configMap(KUBEADM('mode: "ipvss"'))}, [node('a', 'iptables')])
    expect(rest).toEqual([])
    expect(f).toMatchObject({id: 'proxy-mode-config-invalid', severity: 'error'})
    expect(defined(f, 'finding').message).toContain('"ipvss"')
  })
})
