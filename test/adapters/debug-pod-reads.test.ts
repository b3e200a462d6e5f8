// --debug-pod-fallback's two pure decisions: which reads the kube-proxy pod could not run go to a debug
// pod (only when one of them needs it), and how -v says where a node's exec channels went.
import {describe, expect, it} from 'vitest'
import type {BatchOutcomes, BatchStep, StepOutcome} from '../../src/adapters/node/batch.js'
import {nodeCommands} from '../../src/adapters/node/commands.js'
import {NodeAccessError} from '../../src/adapters/node/connector.js'
import {channelSummary, debugPodPlan, movedIds, type ChannelUse} from '../../src/adapters/kube/debug-pod-reads.js'

const ok = (stdout = ''): StepOutcome => ({stdout, stderr: '', exitCode: 0})
const notInstalled = (program: string): StepOutcome =>
  new NodeAccessError(
    `${program} is not installed in kube-proxy pod kube-system/kube-proxy-x on node1 (exited with 127: not in the kube-proxy image)`,
    'command',
    127,
  )
const failed = (code: number): StepOutcome => new NodeAccessError(`exited with ${code}`, 'command', code)

const conntrack = (i: number): BatchStep => ({id: `conntrack:${i}`, cmd: nodeCommands.conntrackList(`10.96.0.${i + 1}`)})
const save: BatchStep = {id: 'save', cmd: nodeCommands.iptablesSave()}
const nft: BatchStep = {id: 'nft', cmd: nodeCommands.nftListKubeProxy('ip')}
const ipvsadm: BatchStep = {id: 'ipvsadm', cmd: nodeCommands.ipvsadmSave()}
const ipset: BatchStep = {id: 'ipset', cmd: nodeCommands.ipsetSave()}
const stats: BatchStep = {id: 'ipvsadm-stats', cmd: nodeCommands.ipvsadmStats()}
const ipvs = (children: BatchStep[]): BatchStep => ({
  id: 'ipvs',
  cmd: nodeCommands.procIpVs(),
  branches: [{when: {printed: ['TCP  ']}, steps: children}],
})

const outcomes = (entries: Record<string, StepOutcome>): BatchOutcomes => new Map(Object.entries(entries))

describe('which reads go to the debug pod', () => {
  it.each<[string, BatchStep[], Record<string, StepOutcome>, {moved: string[]; unread: string[]}]>([
    ['everything ran in the kube-proxy pod: no pod', [save, conntrack(0)], {save: ok(), 'conntrack:0': ok()}, {moved: [], unread: []}],
    [
      'distroless: conntrack missing makes the pod, cat rides along with its branch',
      [conntrack(0), conntrack(1), save, nft, ipvs([ipvsadm, ipset])],
      {'conntrack:0': notInstalled('conntrack'), 'conntrack:1': notInstalled('conntrack'), save: ok(), nft: ok(), ipvs: notInstalled('cat')},
      {moved: ['conntrack:0', 'conntrack:1', 'ipvs'], unread: []},
    ],
    [
      'no --conntrack: a missing cat alone is not worth a pod, and says so',
      [save, ipvs([ipvsadm, ipset])],
      {save: ok(), ipvs: notInstalled('cat')},
      {moved: [], unread: ['cat']},
    ],
    [
      'ipvsadm missing where cat worked: /proc/net/ip_vs holds the table, no pod',
      [save, ipvs([ipvsadm, ipset])],
      {save: ok(), ipvs: ok('TCP  0A600001:01BB rr\n'), ipvsadm: notInstalled('ipvsadm'), ipset: ok()},
      {moved: [], unread: ['ipvsadm']},
    ],
    [
      '--counters on IPVS: the stats need ipvsadm, and its save rides along; ipset stays',
      [save, ipvs([ipvsadm, ipset, stats])],
      {save: ok(), ipvs: ok('TCP  0A600001:01BB rr\n'), ipvsadm: notInstalled('ipvsadm'), ipset: ok(), 'ipvsadm-stats': notInstalled('ipvsadm')},
      {moved: ['ipvsadm', 'ipvsadm-stats'], unread: []},
    ],
    [
      'an image without nft: kube-proxy cannot run nftables mode there, no pod for it',
      [save, nft, conntrack(0)],
      {save: ok(), nft: notInstalled('nft'), 'conntrack:0': ok()},
      {moved: [], unread: []},
    ],
    [
      'conntrack that ran and failed (exit 1) is an answer, not a missing program',
      [save, conntrack(0)],
      {save: ok(), 'conntrack:0': failed(1)},
      {moved: [], unread: []},
    ],
    [
      'a branch under a step that did not run is not looked at',
      [save, ipvs([stats])],
      {save: ok(), ipvs: ok('IP Virtual Server version 1.2.1\n')},
      {moved: [], unread: []},
    ],
  ])('%s', (_, steps, answered, expected) => {
    const plan = debugPodPlan(steps, outcomes(answered))
    expect({moved: plan.moved.map((s) => s.id), unread: plan.unread}).toEqual(expected)
  })

  it('a moved step takes its branches: their kube-proxy outcomes are replaced', () => {
    expect([...movedIds([conntrack(0), ipvs([ipvsadm, ipset])])]).toEqual(['conntrack:0', 'ipvs', 'ipvsadm', 'ipset'])
  })
})

describe('-v: where the exec channels went', () => {
  const kubeProxy = 'kube-proxy pod kube-system/kube-proxy-7xk2p'
  const debug = 'debug pod kube-system/svctrace-0a1b2c3d-1'
  it.each<[string, ChannelUse[], string]>([
    ['one sh -c per round', [{pod: kubeProxy, compound: 2, single: 0}], `2 exec channels into ${kubeProxy} (2 sh -c)`],
    [
      'no shell: concurrent execs',
      [{pod: kubeProxy, compound: 1, single: 8, noShell: true}],
      `9 exec channels into ${kubeProxy} (1 sh -c, 8 single execs; no shell in its image: one exec per command, run concurrently)`,
    ],
    [
      'the debug pod for what the image lacks',
      [
        {pod: kubeProxy, compound: 0, single: 6, noShell: true},
        {pod: debug, compound: 1, single: 0, readsFor: ['conntrack', 'cat']},
      ],
      `7 exec channels: 6 into ${kubeProxy} (6 single execs; no shell in its image: one exec per command, run concurrently), ` +
        `1 into ${debug} (1 sh -c) for conntrack, cat, which the kube-proxy image lacks`,
    ],
    [
      'a pod that opened nothing is left out',
      [
        {pod: kubeProxy, compound: 1, single: 0},
        {pod: debug, compound: 0, single: 0},
      ],
      `1 exec channel into ${kubeProxy} (1 sh -c)`,
    ],
    ['nothing opened', [], 'no exec channel opened'],
  ])('%s', (_, uses, line) => {
    expect(channelSummary(uses)).toBe(line)
  })
})
