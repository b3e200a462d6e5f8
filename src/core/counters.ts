// Traffic counters a dump carries next to its rules: what the rules did, beside what they say.
//
//   iptables-save -c          [9120:547200] -A KUBE-SEP-… -p tcp … -j DNAT --to-destination 10.244.1.5:8080
//   iptables -S CHAIN -v      -A KUBE-SEP-… -p tcp … -c 9120 547200 -j DNAT --to-destination 10.244.1.5:8080
//   nft list …                meta l4proto tcp counter packets 9120 bytes 547200 dnat ip to 10.244.1.5:8080
//   ipvsadm -Ln --stats         -> 10.244.1.5:8080   9120   54720   48000   3283200   2880000

/** Packets and bytes a rule (or IPVS real server) counted since its counters were last zeroed. */
export interface TrafficCounters {
  packets: number
  bytes: number
  /** IPVS: connections scheduled to the real server (`Conns` of `ipvsadm --stats`). */
  connections?: number
}

/** `[9120:547200]` → counters; undefined for anything else. */
export function parseBracketCounters(text: string | undefined): TrafficCounters | undefined {
  const m = /^\[(\d+):(\d+)\]$/.exec(text ?? '')
  return m ? {packets: Number(m[1]), bytes: Number(m[2])} : undefined
}

/**
 * What a balanced split is judged on: connections where they were counted (IPVS schedules
 * connections), else packets. In the nat table (iptables and nftables mode alike) only the first
 * packet of a connection is seen (conntrack NATs the rest), so there packets are new connections.
 */
export function countedConnections(c: TrafficCounters): number {
  return c.connections ?? c.packets
}
