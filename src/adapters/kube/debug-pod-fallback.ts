// --debug-pod-fallback: a node read in its kube-proxy pod (one `sh -c`, or concurrent execs where the
// image has no shell), with only the reads its image lacks a program for sent to a short-lived debug pod
// on the node (debug-pod-reads.ts says which). The kube-proxy pod's own answers are the probe: a missing
// program costs no extra round trip, and is learnt once per node. The debug pod is made the first time a
// read needs it, runs what it is given as one `sh -c`, and is deleted when the node is done.
import type {ActivityLog} from '../../app/ports.js'
import {runBatch, type BatchOutcomes, type BatchStep, type StepOutcome} from '../node/batch.js'
import type {NodeCommand} from '../node/commands.js'
import {isMissingProgram, NodeAccessError, type CommandResult, type NodeSession} from '../node/connector.js'
import {loggedSession} from '../node/logged-session.js'
import {channelSummary, DEBUG_POD_READS, debugPodPlan, movedIds, type ChannelUse} from './debug-pod-reads.js'
import type {PodExecSession} from './pod-exec-session.js'

export interface DebugPodFallbackOptions {
  node: string
  /** Starts the node's debug pod and opens a session in it; called at most once. */
  openDebugPod: () => Promise<PodExecSession>
  /** -v: each command where it ran, how the node was read, and its exec channels. */
  log?: ActivityLog
}

/** A kube-proxy pod session that reads what its image lacks from the node's debug pod. */
export class DebugPodFallbackSession implements NodeSession {
  readonly reportsCommands = true
  private readonly here: NodeSession
  private debug?: Promise<{session: PodExecSession; logged: NodeSession}>
  /** The debug pod's session once it runs (one still starting is the connector's to stop and delete). */
  private opened?: {session: PodExecSession; logged: NodeSession}
  /** The kube-proxy pod's error for each program read in the debug pod instead (learnt once per node). */
  private readonly lacking = new Map<string, NodeAccessError>()
  private readonly unread = new Set<string>()
  private readonly channels = {count: 0}
  private closed?: Promise<void>

  constructor(
    private readonly kubeProxy: PodExecSession,
    private readonly o: DebugPodFallbackOptions,
  ) {
    this.here = this.logged(kubeProxy)
  }

  async run(cmd: NodeCommand): Promise<CommandResult> {
    const program = cmd.argv[0]!
    if (!this.lacking.has(program)) {
      try {
        return await this.here.run(cmd)
      } catch (err) {
        if (!(err instanceof NodeAccessError && isMissingProgram(err) && DEBUG_POD_READS[cmd.id] === 'needed')) throw err
        this.lacking.set(program, err)
      }
    }
    const debug = await this.debugPod().catch((err: unknown) => {
      throw insteadFailed(this.lacking.get(program)!, err)
    })
    return debug.logged.run(cmd)
  }

  async runBatch(steps: readonly BatchStep[]): Promise<BatchOutcomes> {
    // Programs already found missing go straight to the debug pod; the rest is asked of the kube-proxy pod.
    const direct = steps.filter((s) => this.lacking.has(s.cmd.argv[0]!))
    const asked = steps.filter((s) => !direct.includes(s))
    const out: BatchOutcomes =
      asked.length > 0 ? await runBatch(this.here, asked, (why) => this.note(`${why}; ran the commands as concurrent execs`)) : new Map<string, StepOutcome>()
    const plan = debugPodPlan(asked, out)
    for (const p of plan.unread) this.unread.add(p)
    for (const s of plan.moved) this.lacking.set(s.cmd.argv[0]!, out.get(s.id) as NodeAccessError)
    const moved = [...direct, ...plan.moved]
    if (moved.length === 0) return out
    for (const id of movedIds(moved)) out.delete(id)
    let there: BatchOutcomes
    try {
      const debug = await this.debugPod()
      there = await runBatch(debug.logged, moved, (why) => this.note(`${why}; ran the commands as concurrent execs`))
    } catch (err) {
      if (!(err instanceof NodeAccessError)) throw err
      // The debug pod could not be used: those reads fail, the kube-proxy pod's answers stand.
      for (const s of moved) out.set(s.id, insteadFailed(this.lacking.get(s.cmd.argv[0]!)!, err))
      return out
    }
    for (const [id, o] of there) out.set(id, o)
    return out
  }

  private debugPod(): Promise<{session: PodExecSession; logged: NodeSession}> {
    this.debug ??= this.o.openDebugPod().then((session) => {
      this.note(`${[...this.lacking.keys()].join(', ')} not in the kube-proxy image: read from ${session.pod.label} (--debug-pod-fallback)`)
      this.opened = {session, logged: this.logged(session)}
      return this.opened
    })
    return this.debug
  }

  private logged(session: PodExecSession): NodeSession {
    const {log, node} = this.o
    return log ? loggedSession(session, node, 'exec', log, undefined, {where: session.pod.label, channels: this.channels}) : session
  }

  private note(text: string): void {
    this.o.log?.nodeRead({node: this.o.node, via: 'exec', text})
  }

  /** Says where the node's exec channels went, then closes the debug pod's session (deleting the pod) and the kube-proxy pod's. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      // Not waiting for a pod still starting (an interrupted run): the connector stops and deletes it.
      const debug = this.opened
      if (this.unread.size > 0 && !debug)
        this.note(`${[...this.unread].join(', ')} not in the kube-proxy image: left unread (a debug pod is made only for conntrack or IPVS counters)`)
      const uses: ChannelUse[] = [useOf(this.kubeProxy), ...(debug ? [{...useOf(debug.session), readsFor: [...this.lacking.keys()]}] : [])]
      this.note(channelSummary(uses))
      await Promise.allSettled([debug?.session.close(), this.kubeProxy.close()])
    })()
    return this.closed
  }
}

/** A pod session's share of the node's exec channels. */
export function useOf(session: PodExecSession): ChannelUse {
  return {pod: session.pod.label, ...session.channels, ...(session.noShell ? {noShell: true} : {})}
}

/** A read the kube-proxy pod could not run and the debug pod could not either: why, and what failed instead. */
function insteadFailed(missing: StepOutcome, err: unknown): NodeAccessError {
  const why = err instanceof NodeAccessError ? err.message : String((err as Error)?.message ?? err)
  const first = missing instanceof NodeAccessError ? missing.message : 'the kube-proxy image lacks the program'
  return new NodeAccessError(first, 'command', 127, `reading it from a debug pod instead failed: ${why}`)
}
