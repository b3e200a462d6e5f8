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

/** A condition the tracer could not decide, phrased both ways for the report. */
export interface Condition {
  holds: string
  fails: string
}
