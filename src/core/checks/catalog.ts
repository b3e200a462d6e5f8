// Every finding svctrace can report: one entry per slug. docs/findings.md is generated from this,
// Finding.id is typed from its keys, and finding() takes the severity from it.
import type {Finding, Severity} from '../model.js'
import type {Note} from '../trace/notes.js'

export interface CatalogEntry {
  severity: Severity
  /** The one other severity the finding is reported at, in a case its `why` describes (by design, or handled elsewhere). */
  lowered?: Severity
  title: string
  why: string
  fix: string
}

export const catalog = {
  'selector-matches-no-pods': {
    severity: 'error',
    title: 'The selector matches no pods',
    why: "No pod in the namespace carries every label of the Service's selector, so the Service has no endpoints.",
    fix: 'Fix the label that differs in the Service or in the pod template: the evidence shows, for each selector key, how many pods match the rest of the selector and which values they carry (a value one edit away is likely a typo).',
  },
  'selector-matches-several-owners': {
    severity: 'warning',
    title: 'The selector matches pods of several workloads',
    why: 'The Service load-balances across every pod its selector matches; pods of two controllers (two Deployments, a Deployment and a StatefulSet) usually mean the selector is too broad and some connections reach the wrong program. Pods no controller owns are listed as one group, and alone never raise this.',
    fix: 'Add a label that only the intended workload carries to the selector (the evidence lists, per group, the labels no other group carries), or relabel the other pods.',
  },
  'no-ready-pods': {
    severity: 'error',
    title: 'Pods match, but none is ready',
    why: 'Only pods whose Ready condition is True become ready endpoints; with none, kube-proxy has no endpoint and rejects connections.',
    fix: "Read each pod's failing condition, container state and readiness probe in the evidence (kubectl describe pod); fix the probe or the program, or wait for the rollout.",
  },
  'only-terminating-endpoints': {
    severity: 'warning',
    title: 'Every endpoint is terminating',
    why: 'All pods behind the Service are being deleted; kube-proxy sends new connections to terminating endpoints only while they still report serving, then refuses them.',
    fix: 'Check why no replacement pod is ready (kubectl get pods, a stuck rollout or a scale to zero) and make the new pods ready before the old ones go.',
  },
  'target-port-name-undefined': {
    severity: 'error',
    title: 'A named targetPort no container defines',
    why: "A named targetPort is resolved per pod against its containers' port names, for the Service port's protocol; a pod without that name gets no port in the EndpointSlice, so the Service port has no endpoint on it.",
    fix: 'Name the containerPort as the targetPort says (or set targetPort to the name or number the pods declare); the evidence lists the ports each pod declares.',
  },
  'target-port-not-declared': {
    severity: 'warning',
    title: 'A targetPort number no selected container declares',
    why: 'containerPort is informational, so traffic still reaches the pod on that number; but pods that declare other ports and not this one usually mean the targetPort is wrong, and the connection is refused if nothing listens there.',
    fix: 'Set targetPort to the port the program listens on (the evidence lists the declared ports), or declare it in the container spec. Pods that declare no ports at all are not checked.',
  },
  'target-port-protocol-mismatch': {
    severity: 'warning',
    title: 'The pods declare the targetPort only for another protocol',
    why: "The Service port is, say, UDP while the containers declare that number only as TCP; kube-proxy forwards the Service's protocol, which the program may not serve.",
    fix: "Make the Service port's protocol match what the program serves, or add a Service port (and containerPort) for the other protocol.",
  },
  'no-selector-no-endpoints': {
    severity: 'error',
    title: 'No selector and no endpoints',
    why: 'A Service without a selector gets endpoints only from EndpointSlices (or Endpoints) written by hand or by another controller; with none, kube-proxy rejects its traffic.',
    fix: 'Add a selector, or create an EndpointSlice labelled kubernetes.io/service-name=<service> (or an Endpoints object of the same name) with the backend addresses.',
  },
  'endpointslice-missing-service-name-label': {
    severity: 'error',
    title: 'A manual EndpointSlice lacks the kubernetes.io/service-name label',
    why: "kube-proxy finds a Service's slices only by the kubernetes.io/service-name label; a hand-written slice without it is never used, whatever its name or ownerReference says.",
    fix: "kubectl label endpointslice <slice> kubernetes.io/service-name=<service> (and set endpointslice.kubernetes.io/managed-by to your tool's name).",
  },
  'external-name-is-ip': {
    severity: 'error',
    title: 'An ExternalName holds an IP address',
    why: 'An ExternalName Service is a DNS CNAME; a CNAME names a host, so "203.0.113.7" is looked up as a name and does not resolve (some clients get NXDOMAIN, some the raw string).',
    fix: 'Use a Service without a selector plus an EndpointSlice (or Endpoints) holding the IP, or put a DNS name in externalName.',
  },
  'external-name-has-selector': {
    severity: 'warning',
    title: 'An ExternalName Service has a selector',
    why: 'ExternalName Services get no endpoints and no kube-proxy rules: DNS answers with a CNAME, and the selector is ignored.',
    fix: 'Drop the selector, or make the Service a ClusterIP Service if the selected pods are what clients should reach.',
  },
  'headless-service': {
    severity: 'info',
    title: 'Headless Service: DNS only, no virtual IP',
    why: "With clusterIP None kube-proxy writes no rules: cluster DNS answers the Service name with the ready endpoints' pod IPs, clients connect to a pod directly, and port to targetPort is not remapped.",
    fix: 'Nothing to fix if intended; give the Service a cluster IP if clients need one stable address with load balancing.',
  },
  'load-balancer-pending': {
    severity: 'warning',
    title: 'The LoadBalancer has no external address yet',
    why: 'No load-balancer controller has written status.loadBalancer.ingress: none is installed (bare metal without MetalLB or similar), the loadBalancerClass names another controller, or provisioning failed.',
    fix: "kubectl describe service <name> for the controller's events; install or fix the controller, or use the node ports meanwhile.",
  },
  'source-outside-load-balancer-ranges': {
    severity: 'warning',
    title: 'The client is outside loadBalancerSourceRanges',
    why: 'kube-proxy drops packets to the load-balancer address from sources outside loadBalancerSourceRanges (the cluster IP and node ports are not guarded).',
    fix: "Add the client's address or network to loadBalancerSourceRanges, or reach the Service another way.",
  },
  'external-traffic-local-node-without-endpoint': {
    severity: 'warning',
    lowered: 'info',
    title: 'externalTrafficPolicy Local: nodes without a local endpoint drop external traffic',
    why: 'With externalTrafficPolicy Local a node forwards external traffic (node ports, external IPs, load-balancer IPs) only to endpoints on itself, keeping the client address; a node without one drops it. A cloud load balancer health-checks healthCheckNodePort and avoids such nodes, so for a LoadBalancer Service this is reported as info.',
    fix: 'Send clients only to the nodes listed with endpoints, run a pod on every node (DaemonSet, spread constraints), or set externalTrafficPolicy: Cluster if the client address need not be kept.',
  },
  'internal-traffic-local-node-without-endpoint': {
    severity: 'warning',
    title: "internalTrafficPolicy Local: the client's node has no endpoint",
    why: "With internalTrafficPolicy Local, cluster-IP traffic goes only to endpoints on the client's own node; from a node without one it is dropped.",
    fix: 'Run an endpoint on every node that has clients (usually a DaemonSet), or set internalTrafficPolicy: Cluster.',
  },
  'node-port-outside-default-range': {
    severity: 'info',
    title: 'A nodePort outside the default range 30000-32767',
    why: 'The API server accepted it, so its --service-node-port-range was changed; firewalls, security groups and other clusters often allow only the default range.',
    fix: 'Make sure the port is open between clients and nodes, or pick a port in 30000-32767.',
  },
  'session-affinity': {
    severity: 'info',
    title: 'ClientIP session affinity',
    why: 'Connections from one client address stick to one endpoint until the client has been idle for timeoutSeconds (default 10800); clients behind one NAT share an address and so one endpoint.',
    fix: 'Nothing to fix if intended; lower sessionAffinityConfig.clientIP.timeoutSeconds or set sessionAffinity: None if load is uneven.',
  },
  'ignored-by-kube-proxy': {
    severity: 'warning',
    title: 'kube-proxy ignores the Service',
    why: 'kube-proxy skips Services labelled service.kubernetes.io/service-proxy-name (they belong to another proxy) or service.kubernetes.io/headless; without that other proxy, nothing forwards the cluster IP.',
    fix: 'Remove the label if kube-proxy should serve the Service, or check the proxy the label names.',
  },
  'dual-stack': {
    severity: 'info',
    title: 'IP families of the Service',
    why: 'A dual-stack Service has a cluster IP per family and one set of EndpointSlices per family; kube-proxy programs each family separately (iptables and ip6tables), so a client reaches only endpoints of its own family. PreferDualStack on a single-stack cluster yields one family.',
    fix: 'Nothing to fix if intended; check that each family has endpoints, and that clients use the family you expect.',
  },
  'service-rejected-no-endpoints': {
    severity: 'error',
    title: 'Connections are rejected: the Service has no endpoints',
    why: 'kube-proxy installs a REJECT rule for a service port with no ready (or serving-terminating) endpoint, so clients get "connection refused".',
    fix: 'Make the selector match running, ready pods (kubectl get pods -l <selector>), and check that the targetPort names a port the pods declare.',
  },
  'traffic-dropped': {
    severity: 'warning',
    lowered: 'info',
    title: 'Connections are dropped on this path',
    why: 'A filter rule drops the packet: externalTrafficPolicy/internalTrafficPolicy Local with no endpoint on this node, or a load balancer source range that does not include the client.',
    fix: 'Run a backend on the node (or use Cluster policy), or add the client to loadBalancerSourceRanges; the evidence names the rule.',
  },
  'service-missing-on-node': {
    severity: 'error',
    title: 'The node has no rule for a Service that has endpoints',
    why: "The API lists ready endpoints, but the node's rules do not capture the address: kube-proxy on that node is stale, down, or another data plane replaced it.",
    fix: 'Check the kube-proxy pod on the node (kubectl -n kube-system logs) and restart it; compare with another node.',
  },
  'service-port-not-defined': {
    severity: 'info',
    title: "The address is a Service's, the port is none of its ports",
    why: 'kube-proxy writes rules only for the ports a Service defines. For another port (or protocol) of its address no rule forwards the packet: in iptables mode nothing matches and it is routed unchanged (a cluster IP is held by no host, so it usually goes unanswered); nftables mode rejects it (cluster-ips-check); in IPVS mode the address is local (kube-ipvs0) but has no virtual server for the port, so the connection is refused. kube-proxy itself is fine.',
    fix: "Dial one of the Service's ports (kubectl get service <name> lists them): clients use the Service's port, not the targetPort of the pods. Add the port to the Service if it should be reachable.",
  },
  'backend-ip-unknown': {
    severity: 'warning',
    title: 'A rule forwards to an address no pod or endpoint has',
    why: 'The node DNATs to an IP that no pod, node or endpoint in the API holds: a stale rule for a deleted pod, or a manually written endpoint.',
    fix: "Compare the EndpointSlices with the node's rules; restart kube-proxy on the node if its rules are stale.",
  },
  'node-has-no-kube-proxy-rules': {
    severity: 'error',
    lowered: 'warning',
    title: 'The node has no kube-proxy rules',
    why: 'Neither iptables (KUBE-SERVICES), nftables (table ip kube-proxy) nor IPVS state of kube-proxy was found: kube-proxy is not running, or another data plane replaced it. When the node shows the chains of one (Cilium, Calico, kube-router, Antrea, OVN-Kubernetes), the finding names it and is a warning rather than an error: Services are handled there, and svctrace cannot trace them.',
    fix: 'Check the kube-proxy pod on that node (kubectl -n kube-system get pods -o wide) and its logs; if another data plane replaces kube-proxy on purpose, inspect Services with its own tools (named in the finding).',
  },
  'proxy-mode-not-traced': {
    severity: 'warning',
    title: "This node's data plane could not be traced",
    why: "The node shows a kube-proxy mode whose state was not captured completely (for IPVS: ipvsadm and ipset output; for nftables: the kube-proxy table; for iptables: ip6tables-save, which holds the IPv6 Services' rules), so the paths through it are not shown or not traced.",
    fix: "Capture the missing pieces (ipvsadm -Sn, ipset save, nft -j list table ip kube-proxy, ip6tables-save) into the node's bundle folder.",
  },
  'proxy-modes-mixed': {
    severity: 'warning',
    title: 'The node holds rules of two kube-proxy modes',
    why: 'Rules of another mode are left over after a mode switch (or two proxies run); the packet meets whichever acts first in the kernel, which may not be the one you expect.',
    fix: 'Clean the old mode up (kube-proxy --cleanup on the node, or a reboot) and keep one mode per node.',
  },
  'iptables-legacy-and-nft': {
    severity: 'warning',
    title: 'kube-proxy rules in both iptables backends',
    why: 'iptables-legacy and iptables-nft keep separate rule sets that both see every packet. Rules in the backend kube-proxy no longer writes are left over (an image or distribution change switched backends) and can still DNAT traffic to endpoints that are gone.',
    fix: 'Find which backend the running kube-proxy uses (its log says "Using iptables Proxier" with the mode, or iptables -V inside its pod) and flush KUBE-* chains from the other one (iptables-legacy-save | grep KUBE-), or reboot the node.',
  },
  'proxy-mode-differs-from-config': {
    severity: 'warning',
    title: 'A node runs another kube-proxy mode than configured',
    why: 'The rules on the node show one mode while ConfigMap or DaemonSet kube-system/kube-proxy configure another: kube-proxy there has not restarted since the mode was changed (the setting is read at start), it runs with other settings, or it fell back (IPVS to iptables when the ip_vs modules are missing, before v1.26).',
    fix: "Restart kube-proxy on that node (kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=NODE) and read its log for the mode it chose; clean the old mode's rules up afterwards (kube-proxy --cleanup).",
  },
  'proxy-mode-config-invalid': {
    severity: 'error',
    title: 'kube-proxy is configured with a mode it does not know',
    why: 'kube-proxy validates its configuration at start and exits on an unknown mode, so no node that restarts gets Service rules.',
    fix: 'Set mode to "iptables", "ipvs" or "nftables" (or leave it empty for the default) in ConfigMap kube-system/kube-proxy or the --proxy-mode flag.',
  },
  'proxy-mode-userspace': {
    severity: 'warning',
    title: 'The node runs kube-proxy in userspace mode',
    why: 'Userspace mode (removed in Kubernetes 1.26) redirects traffic to kube-proxy itself, which picks the backend in-process: no dump shows which endpoint gets a connection.',
    fix: 'Upgrade kube-proxy and switch the node to iptables or nftables mode.',
  },
  'node-unreadable': {
    severity: 'error',
    title: "The node's rules could not be read",
    why: 'Nothing usable came back from the node, so its paths are not traced.',
    fix: "Follow the message: fix access to the node (connection, key, sudo), or for a bundle capture the file again on the node as root (iptables-save > iptables-save.txt; the README's Bundle directory lists each file's command).",
  },
  'trace-uncertain': {
    severity: 'info',
    title: 'Part of the trace is uncertain',
    why: 'A rule on the path uses a match or target svctrace does not evaluate; the trace shows both outcomes and marks the path uncertain.',
    fix: 'Read the rule named in the notes and decide whether it matches your traffic.',
  },
  'stale-endpoint-rule': {
    severity: 'error',
    title: 'A node forwards to an endpoint the API no longer has',
    why: 'The node DNATs some new connections to an address that is not a usable endpoint of the Service (a deleted or unready pod): kube-proxy on that node is behind the API.',
    fix: 'Check kube-proxy on that node (logs, restarts, sync errors) and restart it; the evidence names the KUBE-SEP chain.',
  },
  'missing-endpoint-rule': {
    severity: 'error',
    title: 'A node does not forward to a ready endpoint',
    why: "The EndpointSlices list a ready endpoint that the node's rules never pick: kube-proxy on that node is behind the API, so that pod gets no traffic through this node.",
    fix: 'Check kube-proxy on that node (logs, restarts, sync errors) and restart it.',
  },
  'probability-mismatch': {
    severity: 'warning',
    title: 'Backends get uneven shares',
    why: 'kube-proxy splits new connections evenly (1/n each); other shares mean hand-edited or half-written rules.',
    fix: "Compare the KUBE-SVC chain with kube-proxy's output on a healthy node; restart kube-proxy on this one.",
  },
  'traffic-skewed': {
    severity: 'warning',
    title: 'Counted traffic is split far from the configured shares',
    why: "The node's counters (iptables-save -c, nft counter, ipvsadm --stats) say how many new connections each backend's DNAT rule (IPVS: real server) took; a chi-square goodness-of-fit test against the configured probabilities finds a split that chance explains with p < 0.001. Judged only over at least 100 connections, and not for ClientIP affinity, traffic policy Local (the counters then mix two splits) or load-dependent IPVS schedulers. Counters add up since the rules were written, so a backend added later shows fewer.",
    fix: 'Look at what sends the extra connections: a rule added by hand or another controller ahead of the KUBE-SVC chain (iptables-save -c shows which rule counted them), a client that reuses one connection (HTTP keep-alive, gRPC: the split is per connection, not per request), or a backend whose rule was written after the others (it started counting later: read the counters twice, a while apart, and compare the differences).',
  },
  'nodes-disagree': {
    severity: 'warning',
    title: 'Nodes forward the same Service differently',
    why: 'With Cluster traffic policy and no topology hints every node should forward a cluster IP to the same endpoints; different sets mean some node is stale.',
    fix: 'Look at the nodes whose set differs from the EndpointSlices and restart kube-proxy there.',
  },
  'conntrack-stale-endpoint': {
    severity: 'warning',
    title: "Connection-tracking entries still send a Service's traffic to an old endpoint",
    why: "The kernel picks a backend for a connection's first packet only; later packets follow its conntrack entry. kube-proxy deletes the UDP entries of an endpoint it removes, but when that fails (no conntrack binary, a race with the rule sync) a client that keeps its source port, such as a resolver's long-lived UDP socket, keeps sending to the old pod until the entry expires, and each packet renews it: the classic resolution failure after a CoreDNS pod moved. Entries that were never translated (reply source is the Service address itself) came from before any rule matched and blackhole the same way.",
    fix: 'Delete the entries on that node with the printed command (as root; svctrace prints it and never runs it); the next packet then picks a current endpoint. If it keeps happening, check that kube-proxy can run conntrack (its log says so when it cannot) and upgrade it.',
  },
  'conntrack-not-read': {
    severity: 'info',
    title: 'Connection tracking could not be read (fully)',
    why: "The node's conntrack entries were asked for (--conntrack) or are in the bundle, but conntrack could not run there (not installed, not allowed, no conntrack.txt in the bundle), or some lines of its output are no entry svctrace can read; stale entries there are not counted.",
    fix: 'Install conntrack on the node (Debian/Ubuntu: conntrack, RHEL: conntrack-tools), read the node with --via exec (older kube-proxy images have it; add --debug-pod-fallback to read it from a short-lived debug pod where the image lacks it, as distroless ones do), or capture conntrack -L into nodes/NODE/conntrack.txt of the bundle; the message names the lines that were not read.',
  },
  'api-read-denied': {
    severity: 'warning',
    title: 'RBAC did not allow reading some objects',
    why: 'The API server answered 403 for a request svctrace needs, so the findings that depend on those objects are missing; the message names the verb, the resource and the namespace.',
    fix: 'Run with an account allowed to get/list services, endpointslices, endpoints, pods and nodes (read-only), or accept the missing findings.',
  },
  'address-not-owned': {
    severity: 'info',
    title: 'Nothing in the cluster owns the address',
    why: 'The address is no Service VIP, node address or pod IP in the API objects that were read.',
    fix: 'Check the address (kubectl get svc -A -o wide), or the namespace and context you read.',
  },
} as const satisfies Record<string, CatalogEntry>

/** Every finding id: a key of the catalogue. */
export type FindingId = keyof typeof catalog

/** The severities a finding may be reported at: the catalogue's, or the `lowered` one its entry declares. */
export type SeverityOf<Id extends FindingId> = (typeof catalog)[Id]['severity'] | ((typeof catalog)[Id] extends {lowered: infer L} ? L : never)

/** What an emitter says about one occurrence; the keys keep the order given (it is the -o json order). */
export interface FindingFacts {
  message: string
  service?: string
  node?: string
  evidence?: string[]
  /** Trace notes the finding rests on (typed; the renderer prints them like evidence). */
  notes?: Note[]
  /** A command that fixes this occurrence, where one is certain (kubectl: checks/fix-command.ts; conntrack -D: conntrack-stale-endpoint.ts). */
  command?: string
}

/**
 * A finding of a catalogued kind, at the catalogue's severity, with the catalogue's fix (and the
 * occurrence's command, when the facts give one). `severity` overrides it only with the
 * `lowered` severity the entry declares (the type allows nothing else): traffic-dropped is info for a
 * source range that keeps unnamed clients out by design, external-traffic-local-node-without-endpoint
 * is info behind a health-checking load balancer, node-has-no-kube-proxy-rules is a warning when
 * another data plane replaces kube-proxy.
 */
export function finding<Id extends FindingId>(id: Id, facts: FindingFacts, severity?: SeverityOf<Id>): Finding
export function finding(id: FindingId, facts: FindingFacts, severity?: Severity): Finding {
  const {command, ...rest} = facts
  return {id, severity: severity ?? catalog[id].severity, ...rest, fix: {text: catalog[id].fix, ...(command !== undefined ? {command} : {})}}
}
