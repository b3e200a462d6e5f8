// The packet a trace follows, and a condition the trace could not decide about it.
import type {Cidr} from '../address.js'
import type {Protocol} from '../model.js'

/** What the tracer knows about the packet at this point. */
export interface Packet {
  /** Concrete source address, or undefined for "some client outside the cluster". */
  src?: Cidr
  /** True when the source is an address of this node (traffic from the node itself). */
  srcLocal: boolean
  dst: Cidr
  dport?: number
  protocol: Protocol
  /** Packet mark; undefined once it is no longer known. */
  mark: number | undefined
  /** True once the connection has been DNATed (conntrack state DNAT). */
  dnatted: boolean
}

// The copies below write a packet's fields in startBranch's order: every packet of a walk has one layout.

/** The packet DNATed to `dst`, and to `dport` when one is given (else its port stays). */
export function dnatPacket(p: Packet, dst: Cidr, dport: number | undefined): Packet {
  const out: Packet = {srcLocal: p.srcLocal, dst, protocol: p.protocol, mark: p.mark, dnatted: true}
  if (p.src !== undefined) out.src = p.src
  const port = dport ?? p.dport
  if (port !== undefined) out.dport = port
  return out
}

/** The packet with its mark set (undefined: no longer known). */
export function markPacket(p: Packet, mark: number | undefined): Packet {
  const out: Packet = {srcLocal: p.srcLocal, dst: p.dst, protocol: p.protocol, mark, dnatted: p.dnatted}
  if (p.src !== undefined) out.src = p.src
  if (p.dport !== undefined) out.dport = p.dport
  return out
}

/** A condition the tracer could not decide, phrased both ways for the report. */
export interface Condition {
  holds: string
  fails: string
}
