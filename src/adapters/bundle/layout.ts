// Where each capture lives in a bundle directory: the one table bundle/reader.ts reads by and
// bundle/writer.ts writes by, so --from reads back exactly what --capture wrote.
//   DIR/cluster.yaml                    `kubectl get svc,endpointslices,endpoints,pods,nodes -A -o yaml` (.yml, .json accepted)
//   DIR/meta.yaml                       when and from where --capture read it
//   DIR/nodes/NODE/iptables-save.txt    `iptables-save` of that node (optional when another mode's files are there)
//   DIR/nodes/NODE/ip6tables-save.txt   `ip6tables-save`: the IPv6 Services' rules of iptables mode (dual-stack and IPv6 clusters)
//   DIR/nodes/NODE/nft.json | nft.txt   `nft -j list table ip kube-proxy` | `nft list table ip kube-proxy`
//   DIR/nodes/NODE/ipvsadm.txt          `ipvsadm -Sn` or `-Ln` (or /proc/net/ip_vs); ipset.txt: `ipset save`
//   DIR/nodes/NODE/ipvsadm-stats.txt    optional: `ipvsadm -Ln --stats --exact`, counters per real server (--counters)
//   DIR/nodes/NODE/iptables-legacy-save.txt  optional: `iptables-legacy-save -t nat` when iptables-save is the nft backend
//     (or other-iptables-backend.json, as --capture writes the count a live read took)
//   DIR/nodes/NODE/conntrack.txt        optional: `conntrack -L` (whole, or `-d VIP` per traced address; --capture with --conntrack writes it)
//   DIR/nodes/NODE/read-error.txt       the node could not be read when captured: why, as the trace said it
import {captureOf, captureText} from '../../core/captures.js'
import type {CaptureKind, NodeDataplane} from '../../core/model.js'

/** The API objects, first name found wins; --capture writes the first. */
export const CLUSTER_FILES = ['cluster.yaml', 'cluster.yml', 'cluster.json'] as const
export const META_FILE = 'meta.yaml'
/** DIR/nodes/NODE/: one directory per node. */
export const NODES_DIR = 'nodes'

/** One kind of node capture: the file(s) it is in, the capture kind the reader makes of it, the file --capture picks. */
export interface NodeCapture {
  kind: 'iptables' | 'ip6tables' | 'nftables' | 'ipvs' | 'ipvs-stats' | 'ipset' | 'conntrack'
  /** The names the reader accepts, first found wins (nft.json before nft.txt). */
  files: readonly string[]
  /** The capture the reader makes of the file (ipvsadm.txt may hold /proc/net/ip_vs too: the parser tells them apart). */
  capture: CaptureKind
  /** What to capture instead when the file is over the size a node may return. */
  tooBig: string
  /**
   * The command that makes the file on the node, when an empty file can only mean it went wrong (an
   * empty ipvsadm or ipset save is a node without virtual servers or sets).
   */
  madeBy?: string
  /** The file and text --capture writes for this kind, if the node has it. */
  write(dp: NodeDataplane): {file: string; text: string} | undefined
}

const as = (file: string, text: string | undefined) => (text === undefined ? undefined : {file, text})
const textOf = (dp: NodeDataplane, kind: CaptureKind) => {
  const c = captureOf(dp, kind)
  return c ? captureText(c) : undefined
}

/** `conntrack -L` of the node: read whenever present, looked for when --conntrack asks. */
export const CONNTRACK_FILE = 'conntrack.txt'

export const NODE_CAPTURES: readonly NodeCapture[] = [
  {
    kind: 'iptables',
    files: ['iptables-save.txt'],
    capture: 'iptables-save',
    tooBig: 'capture only the nat and filter tables (iptables-save -t nat; iptables-save -t filter)',
    madeBy: 'iptables-save > iptables-save.txt',
    write: (dp) => as('iptables-save.txt', textOf(dp, 'iptables-save')),
  },
  {
    // kube-proxy's iptables mode writes IPv6 Services' rules with ip6tables: same format, IPv6 addresses.
    kind: 'ip6tables',
    files: ['ip6tables-save.txt'],
    capture: 'ip6tables-save',
    tooBig: 'capture only the nat and filter tables (ip6tables-save -t nat; ip6tables-save -t filter)',
    madeBy: 'ip6tables-save > ip6tables-save.txt',
    write: (dp) => as('ip6tables-save.txt', textOf(dp, 'ip6tables-save')),
  },
  {
    kind: 'nftables',
    files: ['nft.json', 'nft.txt'],
    capture: 'nft',
    tooBig: "capture only kube-proxy's table (nft -j list table ip kube-proxy)",
    madeBy: 'nft -j list table ip kube-proxy > nft.json',
    write: (dp) => as(textOf(dp, 'nft')?.trimStart().startsWith('{') ? 'nft.json' : 'nft.txt', textOf(dp, 'nft')),
  },
  {
    // IPVS from a kube-proxy pod (no ipvsadm there) is /proc/net/ip_vs, which ipvsadm.txt may hold too.
    kind: 'ipvs',
    files: ['ipvsadm.txt'],
    capture: 'ipvsadm',
    tooBig: 'the IPVS table should be far smaller; check the file is ipvsadm -Sn output',
    write: (dp) => as('ipvsadm.txt', textOf(dp, 'ipvsadm') ?? textOf(dp, 'proc-ip-vs')),
  },
  {
    // `ipvsadm -Ln --stats`: counters per real server, read with --counters (the weights stay in ipvsadm.txt).
    kind: 'ipvs-stats',
    files: ['ipvsadm-stats.txt'],
    capture: 'ipvsadm-stats',
    tooBig: 'the IPVS statistics should be far smaller; check the file is ipvsadm -Ln --stats output',
    write: (dp) => as('ipvsadm-stats.txt', textOf(dp, 'ipvsadm-stats')),
  },
  {
    kind: 'ipset',
    files: ['ipset.txt'],
    capture: 'ipset',
    tooBig: "capture only kube-proxy's sets (ipset save | grep KUBE-)",
    write: (dp) => as('ipset.txt', textOf(dp, 'ipset')),
  },
  {
    // Connection tracking: a live read has it only with --conntrack, so only then does --capture write it.
    kind: 'conntrack',
    files: [CONNTRACK_FILE],
    capture: 'conntrack',
    tooBig: "capture only the Service's addresses (conntrack -L -d VIP)",
    write: (dp) => as(CONNTRACK_FILE, textOf(dp, 'conntrack')),
  },
]

/**
 * The other iptables backend than iptables-save.txt's: its save text (counted when read), or the
 * count a live read took (JSON of NodeDataplane.otherIptablesBackend, as --capture writes it).
 */
export const OTHER_BACKEND_FILES = {text: 'iptables-legacy-save.txt', count: 'other-iptables-backend.json'} as const

/** A node that could not be read: its readError sentence, so --from shows the same error row. */
export const READ_ERROR_FILE = 'read-error.txt'
