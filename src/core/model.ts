// The shared vocabulary of svctrace: what the core is fed and what it reports.
import type {V1ConfigMap, V1DaemonSet, V1Endpoints, V1EndpointSlice, V1Node, V1Pod, V1Service} from '@kubernetes/client-node'
import type {Hop, Lookup} from './trace/branch.js'
import type {Note} from './trace/notes.js'
import type {ApiBackend} from './api-backends.js'
import type {ExpectedDataplane} from './expected-paths.js'

export type {Hop, HopTarget, Lookup} from './trace/branch.js'
export type {Note, NoteKind} from './trace/notes.js'
export type {ApiBackend, ApiBackendPort} from './api-backends.js'
export type {ExpectedAlternative, ExpectedBackend, ExpectedDataplane, ExpectedOutcome, ExpectedPath, ExpectedRule, NodesUntraced} from './expected-paths.js'
import type {FindingId} from './checks/catalog.js'
import type {TrafficCounters} from './counters.js'

export type {TrafficCounters} from './counters.js'

/** Transport protocols kube-proxy handles, as Kubernetes spells them. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP'

/** An address a packet is sent to: IP, optional port, protocol. */
export interface Destination {
  ip: string
  port?: number
  protocol: Protocol
}

/** Which kube-proxy data plane a node runs. */
export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'userspace' | 'none' | 'unknown'

/** The API objects a trace needs (a bundle's cluster.yaml, or what the live API returned). */
export interface ClusterView {
  services: V1Service[]
  endpointSlices: V1EndpointSlice[]
  endpoints: V1Endpoints[]
  pods: V1Pod[]
  nodes: V1Node[]
  /** ConfigMap and DaemonSet kube-system/kube-proxy, when the source has them (the mode they configure). */
  kubeProxy?: KubeProxyObjects
}

/** The kube-proxy objects a source found (either may be missing: not every installer has them). */
export interface KubeProxyObjects {
  configMap?: V1ConfigMap
  daemonSet?: V1DaemonSet
}

/** What kind of dump a capture is. */
export type CaptureKind =
  /** `iptables-save` (IPv4; all tables or some; `-c` counters optional), or the targeted chain listings rebuilt into that form. */
  | 'iptables-save'
  /**
   * `ip6tables-save`, the same format for IPv6: kube-proxy's iptables mode runs one proxier per IP
   * family and writes IPv6 Services' rules with ip6tables (same chain names, `[addr]:port` endpoints).
   */
  | 'ip6tables-save'
  /** `nft -j list table ip kube-proxy` (JSON) or `nft list …` text (listing or `nft -f` transaction form). */
  | 'nft'
  /** `ipvsadm -Sn` or `ipvsadm -Ln`. */
  | 'ipvsadm'
  /** /proc/net/ip_vs as read inside a kube-proxy pod (no ipvsadm there). */
  | 'proc-ip-vs'
  /** `ipvsadm -Ln --stats` (--exact or not): connections, packets and bytes per real server, beside the table of `ipvsadm`. */
  | 'ipvsadm-stats'
  /** `ipset list` or `ipset save`. */
  | 'ipset'
  /** `conntrack -L` (default or `-o extended` format), whole or for some destinations (`-d VIP`). */
  | 'conntrack'

/**
 * A dump left where it lies (a bundle's file), read in pieces: indexing streams it through one small
 * buffer, and a trace then reads the chains it walks. Holding a 50 MB file costs its every page, which
 * one Service's trace never looks at.
 */
export interface ByteSource {
  readonly size: number
  /** Fills `into` with the bytes from `position` on; returns how many it read (fewer only at the end). */
  read(into: Uint8Array, position: number): number
}

/**
 * One dump read from a node: what it is, what the node printed, and where it came from (a file path, or
 * `node1: iptables-save`). The output is text, the bytes as read, or (iptables dumps in a bundle) where
 * to read them: a 50 MB iptables-save dump is indexed from its bytes without being decoded (captureText
 * decodes, and reads a ByteSource whole, when a reader needs text).
 */
export interface Capture {
  kind: CaptureKind
  text: string | Uint8Array | ByteSource
  source: string
}

/** What was read from one node: raw dumps, never parsed eagerly. */
export interface NodeDataplane {
  name: string
  /** At most one capture of each kind. */
  captures: Capture[]
  /**
   * KUBE-* rules in the other iptables backend than the one the iptables-save capture came from
   * (legacy vs nft): counted, not traced; both holding rules means two kube-proxy generations fight
   * over the node.
   */
  otherIptablesBackend?: {backend: 'legacy' | 'nft'; kubeRules: number; source: string}
  /** Why nothing could be read from this node. */
  readError?: string
  /** The run was interrupted (Ctrl-C, SIGTERM) before this node answered: not the node's fault, so no finding. */
  interrupted?: true
  /** --conntrack: why the node's connection-tracking table could not be read (the rest of the node was). */
  conntrackError?: string
}

/** How a packet reaches the destination, and from where. */
export type EntryKind = 'cluster-ip' | 'node-port' | 'external-ip' | 'load-balancer' | 'pod-ip' | 'address'

/**
 * Where the packet starts: a pod on the node and an outside client enter nat PREROUTING,
 * a process on the node itself enters nat OUTPUT.
 */
export type SourceKind = 'pod' | 'external' | 'node'

export type Verdict = 'dnat' | 'reject' | 'drop' | 'no-match' | 'not-a-service'

/** One pod (or address) that can receive the connection. */
export interface Backend {
  ip: string
  port: number
  /** Effective probability for a fresh connection (the 1/n, 1/(n-1)… chain multiplied out). */
  probability: number
  /** `namespace/name`, or null when no pod has this IP. */
  pod: string | null
  node: string | null
  /** What the address is when it is no pod: `api-server` for the endpoints of Service default/kubernetes. */
  role?: 'api-server'
  /** The KUBE-SEP chain (nftables: endpoint chain; IPVS: virtual server) that DNATs to it. */
  chain: string
  /** IPVS: the real server's weight. */
  weight?: number
  /**
   * What the node's dump counted for this backend, when it has counters (`iptables-save -c`, nft
   * `counter`, `ipvsadm -Ln --stats`): the DNAT rule's packets and bytes (new connections: the nat
   * table sees only first packets), IPVS the real server's connections, packets and bytes in.
   */
  counters?: TrafficCounters
}

/** An outcome that happens only under a condition the trace could not decide. */
export interface Alternative {
  when: string[]
  verdict: Verdict
  backends: Backend[]
}

/** Where a path starts: the destination, how it is reached, and the Service port it belongs to. */
export interface PathEntry {
  /** The destination as `IP:PORT/PROTO` (`[IPv6]:PORT/PROTO`), for reading; `destination` holds the parts. */
  address: string
  destination: Destination
  kind: EntryKind
  /** `namespace/name` of the Service the entry belongs to. */
  service?: string
  /** The Service port (by name and number) the entry belongs to; for a node port, `destination.port` is the node port. */
  servicePort?: {name: string; port: number}
}

/** One traced path: an entry point, on one node, from one kind of source. */
export interface TracePath {
  entry: PathEntry
  from: SourceKind
  /** The client address traced: --source, the node's address, a pod's, or one standing for any pod (`sourceIsExample`). */
  source?: string
  /** `namespace/name` of the pod whose address `source` is. */
  sourcePod?: string
  /** True when `source` is only an address of the node's pod CIDR standing for any pod there: the node runs no pod to take one from. */
  sourceIsExample?: boolean
  /**
   * --source gave a range: `source` is one address of it, standing for the whole range, for the `part`
   * loadBalancerSourceRanges let in, or for the rest of it (the addresses outside them).
   */
  sourceRange?: {given: string; stands: 'whole' | 'allowed' | 'rest'; part?: string}
  verdict: Verdict
  hops: Hop[]
  backends: Backend[]
  /** Whether the packet is marked for masquerade (SNAT to the node's address). */
  masquerade: 'yes' | 'no' | 'maybe'
  /** ClientIP session affinity seen on the path. */
  affinity?: {timeoutSeconds: number}
  /** For a dropped path: how serious the drop is, the severity of the finding that reports it (checks/dropped-paths.ts dropSeverity). */
  severity?: 'warning' | 'info'
  /** IPVS: the scheduler of the virtual server (`rr`, `wrr`, …). */
  scheduler?: string
  /** How the node's mode finds the Service: `rules` (iptables: one rule after another), `map` (nftables), `hash` (IPVS). */
  lookup?: Lookup
  /** iptables: the rules the packet is compared against before its verdict (nat and filter), the most of any backend's way. */
  rulesPassed?: number
  alternatives: Alternative[]
  /** Conditions assumed, and matches the tracer could not evaluate. */
  notes: Note[]
  /** True when a note says the tracer skipped or could not read something on the path. */
  uncertain: boolean
}

/**
 * What finding a Service costs on the node: in iptables mode every new connection is compared with
 * the KUBE-SERVICES rules one by one (the cost grows with the number of Services); nftables and IPVS
 * look it up in a map or hash, at a constant cost.
 */
export interface RuleWalk {
  lookup: Lookup
  /** iptables: rules in nat KUBE-SERVICES (IPv4 and IPv6 dumps added up). */
  kubeServicesRules?: number
  /** iptables: the traced path compared with the most rules before its verdict. */
  deepest?: {service?: string; address: string; from: SourceKind; rulesPassed: number}
}

export interface NodeReport {
  name: string
  mode: ProxyMode
  readError?: string
  /** The run was interrupted before this node answered. */
  interrupted?: true
  /** How the node's mode finds a Service, with the iptables rule counts; absent when nothing was traced. */
  ruleWalk?: RuleWalk
  paths: TracePath[]
  /** --conntrack: what the node's connection-tracking table held for the traced Services. */
  conntrack?: ConntrackSummary
}

/** The connection-tracking entries read on one node, as the check counted them. */
export interface ConntrackSummary {
  /** Where they came from (`node1: conntrack -L -d 10.96.0.10`, or a bundle's conntrack.txt). */
  source: string
  /** Entries read (any destination), entries to a traced Service port, and of those the ones whose reply source is no endpoint. */
  entries: number
  forServices: number
  stale: number
  /** Lines that were no entry (`source:line`). */
  unread: number
}

export type Severity = 'error' | 'warning' | 'info'

export interface Finding {
  /** A key of the catalogue (checks/catalog.ts). */
  id: FindingId
  severity: Severity
  message: string
  service?: string
  node?: string
  evidence?: string[]
  /** Notes of the traced path the finding rests on (rendered like evidence). */
  notes?: Note[]
  /** How to fix it: the catalogue's fix text, and a ready-to-paste command where one is certain (kubectl, or `conntrack -D` to run on the node; printed, never run). */
  fix?: {text: string; command?: string}
}

/** What the user asked: one Service, one address, or every Service (of `namespace`, or of the cluster). */
export type Query =
  | {kind: 'service'; service: string; namespace?: string; source?: string}
  | {kind: 'ip'; ip: string; port?: number; protocol: Protocol; source?: string}
  /** A Service's DNS name (`name` as typed: NAME.NS[.svc[.DOMAIN]]), resolved from the API objects; every protocol when none is given. */
  | {kind: 'name'; name: string; service: string; namespace: string; port?: number; protocol?: Protocol; source?: string}
  | {kind: 'all'; namespace?: string; source?: string}

/** Check mode's query: every Service (of a namespace). */
export type AllQuery = Extract<Query, {kind: 'all'}>

export interface ServiceSummary {
  name: string
  namespace: string
  type: string
  clusterIPs: string[]
  ports: Array<{name: string; port: number; protocol: Protocol; targetPort: string; nodePort?: number}>
  externalIPs: string[]
  loadBalancerIPs: string[]
  externalTrafficPolicy?: string
  internalTrafficPolicy?: string
  sessionAffinity?: {timeoutSeconds: number}
  /**
   * Endpoint addresses in the Service's EndpointSlices: ready, all, and how many of the ready ones
   * appear only in slices without ports (ready, but kube-proxy has no port for them).
   */
  endpoints: {ready: number; total: number; portless: number}
  /** Every endpoint of the Service's EndpointSlices (of its Endpoints when it has no slice), from the API. */
  backends: ApiBackend[]
  /** The one-line answer: what traffic to the Service does, and the finding that decides it. */
  verdict: ServiceVerdict
}

/** What a Service's traced paths add up to (core/verdict.ts). */
export interface ServiceVerdict {
  /** broken: an error finding about the Service; warning: a warning; ok: neither. */
  status: 'ok' | 'warning' | 'broken'
  /** Distinct entry points traced (destinations), and on how many nodes. */
  entries: number
  nodes: number
  /** How many traced paths end in each verdict. */
  outcomes: Partial<Record<Verdict, number>>
  /** Distinct backends the DNAT paths reach, and the Service's ready endpoints. */
  reached: number
  ready: number
  /** Whether every backend reached is a pod (the API server behind default/kubernetes is not). */
  reachedPods: boolean
  /** The share of each backend when every DNAT path splits evenly among the same backends. */
  evenShare?: number
  /** The worst finding about the Service (error, else warning). */
  cause?: {id: FindingId; message: string}
}

/**
 * The versioned report (`-o json`). v2: notes are objects `{kind, text, …}` (v1: strings); a path's
 * entry has `destination` and `servicePort` in place of v1's `port` string.
 */
export interface Report {
  apiVersion: 'svctrace/v2'
  query: Query
  /** What owns the queried address (for --ip), in a sentence. */
  resolution?: string
  services: ServiceSummary[]
  /** The mode kube-proxy is configured with, when the API shows it (ConfigMap / DaemonSet kube-system/kube-proxy). */
  kubeProxyMode?: {mode: string; evidence: string[]}
  nodes: NodeReport[]
  /**
   * What kube-proxy should program, computed from the API objects, when no node's rules were traced
   * (a Service or address query; not for -A). Marked as expected: nothing here was seen on a node.
   */
  expected?: ExpectedDataplane
  /**
   * Present when the run was interrupted (Ctrl-C, SIGTERM) while nodes were being read: the report
   * holds what the nodes that answered showed; `nodes` never answered. Findings cover only what was read.
   */
  partial?: {reason: 'interrupted'; nodes: string[]}
  findings: Finding[]
}
