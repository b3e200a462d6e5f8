// A kube-proxy data plane as a plug-in of the tracer: how to recognise it on a node, and how to trace
// a packet through it. The registry (src/core/dataplane.ts) runs every plug-in over a node's indexed
// captures; adding a mode means adding one plug-in, not another branch in the loop.
import type {Trace, TraceRequest} from './branch.js'

/** The kube-proxy modes svctrace traces. */
export type TracedMode = 'iptables' | 'ipvs' | 'nftables' | 'userspace'

/** One mode found on a node, with what showed it (for the report). */
export interface ModeEvidence {
  mode: TracedMode
  evidence: string
}

/** A traced mode. `Captures` is what the node's dumps were indexed into (cheaply: decode on demand). */
export interface ModePlugin<Captures> {
  mode: TracedMode
  /** Where the kernel consults this mode's rules on a packet's way (lower first); decides which set acts when a node holds two. */
  kernelOrder: number
  /** What on the node shows this mode, in a sentence naming the dump; undefined when nothing does. `found`: modes detected so far, newest first. */
  detect(captures: Captures, found: readonly ModeEvidence[]): string | undefined
  /** The tracer for this node given every detected mode; undefined when a capture it needs is missing or another mode covers it. */
  tracer(captures: Captures, detected: ReadonlySet<TracedMode>): ((req: TraceRequest) => Trace) | undefined
}
