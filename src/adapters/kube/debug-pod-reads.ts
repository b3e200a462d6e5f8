// --debug-pod-fallback decides, from what the kube-proxy pod answered, which reads go to a debug pod on
// the node, and -v says where a node's exec channels went. Both are pure: they see step outcomes and
// counts, never a pod.
import {allSteps, type BatchOutcomes, type BatchStep, type StepOutcome} from '../node/batch.js'
import type {NodeCommandId} from '../node/commands.js'
import {isMissingProgram, NodeAccessError} from '../node/connector.js'

/**
 * What a read is worth when the kube-proxy image lacks its program. kube-proxy's image carries the tools
 * of the modes kube-proxy runs (iptables, nft, ipset): one missing means that mode is not in use there,
 * so no pod is made for it. What a trace needs beyond kube-proxy's own tools is conntrack (--conntrack;
 * distroless images dropped it) and ipvsadm's counters (--counters; never in the image): those are
 * `needed` and make the node's debug pod. /proc/net/ip_vs (distroless has no cat) and ipvsadm's save
 * (the kernel's listing holds the same table) ride `along` when a pod is made anyway.
 */
export const DEBUG_POD_READS: Partial<Record<NodeCommandId, 'needed' | 'along'>> = {
  'conntrack-list': 'needed',
  'ipvsadm-stats': 'needed',
  'proc-ip-vs': 'along',
  'ipvsadm-save': 'along',
}

/** Which reads go to the debug pod, and the programs left unread (missing, but not worth a pod). */
export interface DebugPodPlan {
  /** Steps to run again in the debug pod, each with its branches (their outcomes there replace the kube-proxy pod's). */
  moved: BatchStep[]
  /** Programs the kube-proxy image lacks whose reads stay unread: no needed read made a pod. */
  unread: string[]
}

function lacksProgram(o: StepOutcome | undefined): o is NodeAccessError {
  return o instanceof NodeAccessError && isMissingProgram(o)
}

/**
 * The steps of a batch the kube-proxy pod could not run for want of their program, outermost first: all
 * of them that are worth it when at least one is needed, none otherwise. A step that moves takes its
 * branches along (they depend on its output).
 */
export function debugPodPlan(steps: readonly BatchStep[], outcomes: BatchOutcomes): DebugPodPlan {
  const missing: BatchStep[] = []
  const visit = (list: readonly BatchStep[]) => {
    for (const step of list) {
      const o = outcomes.get(step.id)
      if (lacksProgram(o)) missing.push(step)
      else if (o !== undefined) for (const b of step.branches ?? []) visit(b.steps)
    }
  }
  visit(steps)
  const worth = (s: BatchStep) => DEBUG_POD_READS[s.cmd.id]
  const needed = missing.some((s) => worth(s) === 'needed')
  const moved = needed ? missing.filter((s) => worth(s) !== undefined) : []
  const unread = missing.filter((s) => !moved.includes(s) && worth(s) !== undefined).map((s) => s.cmd.argv[0]!)
  return {moved, unread: [...new Set(unread)]}
}

/** Every step id of the moved steps and their branches: the outcomes the debug pod's answers replace. */
export function movedIds(moved: readonly BatchStep[]): Set<string> {
  return new Set(allSteps(moved).map((s) => s.id))
}

/** One pod's share of a node's exec channels. */
export interface ChannelUse {
  /** `kube-proxy pod kube-system/kube-proxy-7xk2p`. */
  pod: string
  /** `sh -c` batches (one of them may have found no shell). */
  compound: number
  /** Commands exec'd one by one. */
  single: number
  /** The image has no shell: its commands ran as concurrent execs. */
  noShell?: boolean
  /** The programs it read because another pod's image lacks them. */
  readsFor?: string[]
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/**
 * -v: `3 exec channels: 2 into kube-proxy pod … (2 sh -c), 1 into debug pod … (1 sh -c) for conntrack,
 * which the kube-proxy image lacks`. Pods that opened no channel are left out.
 */
export function channelSummary(uses: readonly ChannelUse[]): string {
  const used = uses.filter((u) => u.compound + u.single > 0)
  const total = used.reduce((n, u) => n + u.compound + u.single, 0)
  if (used.length === 0) return 'no exec channel opened'
  const parts = used.map((u) => {
    const how = [...(u.compound > 0 ? [`${u.compound} sh -c`] : []), ...(u.single > 0 ? [plural(u.single, 'single exec')] : [])].join(', ')
    const shell = u.noShell ? '; no shell in its image: one exec per command, run concurrently' : ''
    const reads = u.readsFor?.length ? ` for ${u.readsFor.join(', ')}, which the kube-proxy image lacks` : ''
    return `${used.length > 1 ? `${u.compound + u.single} into ` : ''}${u.pod} (${how}${shell})${reads}`
  })
  return `${plural(total, 'exec channel')}${used.length > 1 ? ': ' : ' into '}${parts.join(', ')}`
}
