// The command's own flags, in the groups --help shows them in (QUERY, CLUSTER, OUTPUT); the node
// access flags are node-flags.ts. Help lists the groups, and the flags in each, in this order.
import {Flags} from '@oclif/core'

/** What to trace. */
export const queryFlags = {
  namespace: Flags.string({
    char: 'n',
    description: 'namespace of the Service; without a Service, check every Service in it',
    helpValue: 'NAMESPACE',
    helpGroup: 'Query',
  }),
  'all-namespaces': Flags.boolean({
    char: 'A',
    aliases: ['all-services'],
    description: 'check every Service in every namespace and print one summary',
    helpGroup: 'Query',
  }),
  ip: Flags.string({
    description: "trace an address instead of a Service name: IP or a Service's DNS name (NAME.NS[.svc[.cluster.local]]), with :PORT and /PROTO",
    helpValue: 'IP|NAME.NS[:PORT][/PROTO]',
    helpGroup: 'Query',
  }),
  source: Flags.string({
    description: 'client address or range: traces source ranges, traffic policies and affinity for it (a range: which part is allowed)',
    helpValue: 'IP|CIDR',
    helpGroup: 'Query',
  }),
  nodes: Flags.string({description: 'only these nodes (comma-separated)', helpValue: 'NODE,…', helpGroup: 'Query'}),
  conntrack: Flags.boolean({
    description:
      "also read each node's conntrack entries for the Service's addresses (conntrack -L -d VIP; a bundle's conntrack.txt) and flag entries still sent to old endpoints",
    helpGroup: 'Query',
  }),
}

/** Where the API objects come from: a kubeconfig context, or a bundle directory. */
export const clusterFlags = {
  kubeconfig: Flags.string({
    description: 'path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)',
    helpValue: 'FILE',
    helpGroup: 'Cluster',
  }),
  context: Flags.string({description: 'the kubeconfig context to use', helpValue: 'CONTEXT', helpGroup: 'Cluster'}),
  'request-timeout': Flags.integer({
    description: 'seconds to wait for each API request',
    min: 1,
    max: 600,
    default: 30,
    helpValue: 'SEC',
    helpGroup: 'Cluster',
  }),
  from: Flags.string({
    description: 'read a bundle directory (cluster.yaml + nodes/NODE/iptables-save.txt) instead of a live cluster',
    helpValue: 'DIR',
    helpGroup: 'Cluster',
  }),
  capture: Flags.string({description: 'also write everything that was read as a bundle directory (for --from)', helpValue: 'DIR', helpGroup: 'Cluster'}),
}

/** What is printed, and the exit code. */
export const outputFlags = {
  output: Flags.option({
    char: 'o',
    description: 'output format; tree, dot and mermaid draw pictures (see DESCRIPTION)',
    options: ['table', 'wide', 'tree', 'json', 'yaml', 'dot', 'mermaid'] as const,
    default: 'table',
    helpGroup: 'Output',
  })(),
  'fail-on': Flags.option({
    description: 'exit 1 when a finding of this severity or worse exists',
    options: ['error', 'warning', 'info', 'none'] as const,
    default: 'error',
    helpGroup: 'Output',
  })(),
  ignore: Flags.string({description: 'leave out findings with these ids (comma-separated)', helpValue: 'SLUG,…', helpGroup: 'Output'}),
  explain: Flags.string({description: 'explain one finding id (why it matters, how to fix it) and exit', helpValue: 'SLUG', helpGroup: 'Output'}),
  'no-color': Flags.boolean({description: 'never colour the output (also: NO_COLOR set, or output not a terminal)', helpGroup: 'Output'}),
  verbose: Flags.boolean({
    char: 'v',
    description: 'print each API request and node command to stderr, with status and time (kubectl -v=6 style; -v=N works too)',
    helpGroup: 'Output',
  }),
}
