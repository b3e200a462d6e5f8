// The only commands svctrace ever runs on a node: read-only, from this fixed list, with arguments
// built from validated values. Nothing from the user or the cluster reaches a shell unchecked.
import {canonicalIP, familyOf, isIP} from '../../core/address.js'

/** One allow-listed command: what it is, and its argv. */
export interface NodeCommand {
  id: NodeCommandId
  argv: string[]
}

export type NodeCommandId =
  | 'iptables-save'
  | 'iptables-save-table'
  | 'iptables-list-chain'
  | 'ip6tables-save'
  | 'ip6tables-list-chain'
  | 'ip6tables-save-table'
  | 'ip6tables-version'
  | 'iptables-legacy-save'
  | 'iptables-nft-save'
  | 'iptables-version'
  | 'nft-list-kube-proxy'
  | 'nft-probe-kube-proxy'
  | 'ipvsadm-save'
  | 'ipvsadm-stats'
  | 'ipset-save'
  | 'proc-ip-vs'
  | 'conntrack-list'

/** The largest output a node may return for one command (a 10,000-Service node dumps ~48 MB). */
export const MAX_COMMAND_OUTPUT_BYTES = 256 * 1024 * 1024

/** A value unfit for a node command: the node is not asked anything. */
export class UnsafeArgumentError extends Error {}

const TABLES = new Set(['nat', 'filter', 'mangle', 'raw'])
const CHAIN = /^KUBE-[A-Z0-9-]{1,60}$/
const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'])

function chainName(chain: string): string {
  if (!CHAIN.test(chain) && !BUILTIN_CHAINS.has(chain)) throw new UnsafeArgumentError(`refusing to read chain "${chain}": not a kube-proxy chain name`)
  return chain
}

function table(name: string): string {
  if (!TABLES.has(name)) throw new UnsafeArgumentError(`refusing to read table "${name}"`)
  return name
}

// --counters: `iptables-save -c` prefixes each rule with `[packets:bytes]`; `iptables -S CHAIN -v`
// adds `-c packets bytes` before the target (chain-listing.ts moves it to the prefix).
const saveCounters = (counters: boolean) => (counters ? ['-c'] : [])
const listCounters = (counters: boolean) => (counters ? ['-v'] : [])

/** Builders: the only way to make a NodeCommand. `counters` asks for the rules' traffic counters too (--counters). */
export const nodeCommands = {
  iptablesSave: (counters = false): NodeCommand => ({id: 'iptables-save', argv: ['iptables-save', ...saveCounters(counters)]}),
  iptablesSaveTable: (t: string, counters = false): NodeCommand => ({
    id: 'iptables-save-table',
    argv: ['iptables-save', ...saveCounters(counters), '-t', table(t)],
  }),
  /** `iptables -t nat -S KUBE-SVC-…`: one chain, for targeted collection. */
  iptablesListChain: (t: string, chain: string, counters = false): NodeCommand => ({
    id: 'iptables-list-chain',
    argv: ['iptables', '-w', '5', '-t', table(t), '-S', chainName(chain), ...listCounters(counters)],
  }),
  /** `ip6tables-save`: kube-proxy's iptables mode writes IPv6 Services' rules with ip6tables. */
  ip6tablesSave: (counters = false): NodeCommand => ({id: 'ip6tables-save', argv: ['ip6tables-save', ...saveCounters(counters)]}),
  /** `ip6tables -t nat -S KUBE-SVC-…`: one IPv6 chain, for targeted collection (CollectionPlan.chains6). */
  ip6tablesListChain: (t: string, chain: string, counters = false): NodeCommand => ({
    id: 'ip6tables-list-chain',
    argv: ['ip6tables', '-w', '5', '-t', table(t), '-S', chainName(chain), ...listCounters(counters)],
  }),
  /** `ip6tables-save -t nat`: one IPv6 table, for a targeted read that takes it whole (legacy backend, small KUBE-SERVICES). */
  ip6tablesSaveTable: (t: string, counters = false): NodeCommand => ({
    id: 'ip6tables-save-table',
    argv: ['ip6tables-save', ...saveCounters(counters), '-t', table(t)],
  }),
  /** `ip6tables v1.8.9 (nf_tables)`: which backend ip6tables reads (the alternatives system may pick it apart from iptables'). */
  ip6tablesVersion: (): NodeCommand => ({id: 'ip6tables-version', argv: ['ip6tables', '-V']}),
  iptablesLegacySave: (): NodeCommand => ({id: 'iptables-legacy-save', argv: ['iptables-legacy-save']}),
  /** Every table of the nft backend (no -t: it never creates a table that is not there). */
  iptablesNftSave: (): NodeCommand => ({id: 'iptables-nft-save', argv: ['iptables-nft-save']}),
  /** `iptables v1.8.9 (nf_tables)` or `(legacy)`: which backend `iptables-save` reads. */
  iptablesVersion: (): NodeCommand => ({id: 'iptables-version', argv: ['iptables', '-V']}),
  nftListKubeProxy: (family: 'ip' | 'ip6' = 'ip'): NodeCommand => ({
    id: 'nft-list-kube-proxy',
    argv: ['nft', '-j', 'list', 'table', family === 'ip6' ? 'ip6' : 'ip', 'kube-proxy'],
  }),
  /**
   * `nft list chain ip kube-proxy services`: whether kube-proxy's nftables table is there (it always has
   * that chain). Cheap where listing the table is not: nft 1.0 fetches every rule of the family to list
   * one table, seconds next to a big iptables-nft ruleset, and milliseconds for one chain.
   */
  nftProbeKubeProxy: (family: 'ip' | 'ip6' = 'ip'): NodeCommand => ({
    id: 'nft-probe-kube-proxy',
    argv: ['nft', 'list', 'chain', family === 'ip6' ? 'ip6' : 'ip', 'kube-proxy', 'services'],
  }),
  ipvsadmSave: (): NodeCommand => ({id: 'ipvsadm-save', argv: ['ipvsadm', '-S', '-n']}),
  /** `ipvsadm -L -n --stats --exact`: connections, packets and bytes per real server (--counters); --exact: no K/M abbreviations. */
  ipvsadmStats: (): NodeCommand => ({id: 'ipvsadm-stats', argv: ['ipvsadm', '-L', '-n', '--stats', '--exact']}),
  ipsetSave: (): NodeCommand => ({id: 'ipset-save', argv: ['ipset', 'save']}),
  procIpVs: (): NodeCommand => ({id: 'proc-ip-vs', argv: ['cat', '/proc/net/ip_vs']}),
  /** `conntrack -L -d IP` (`-f ipv6` for an IPv6 address): the tracked connections to one destination; no address: all. */
  conntrackList: (address?: string): NodeCommand => ({
    id: 'conntrack-list',
    argv: ['conntrack', '-L', ...(address === undefined ? [] : conntrackDestination(address))],
  }),
}

/** `-d IP`, with `-f ipv6` first for an IPv6 address (conntrack lists IPv4 unless told); only a valid address. */
function conntrackDestination(address: string): string[] {
  if (!isIP(address)) throw new UnsafeArgumentError(`refusing to list connections to "${address}": not an IP address`)
  const ip = canonicalIP(address)
  return familyOf(ip) === 6 ? ['-f', 'ipv6', '-d', ip] : ['-d', ip]
}

/** Every argv the builders can produce, by id: what a test checks each executed command against. */
export const ALLOWED: Record<NodeCommandId, RegExp> = {
  'iptables-save': /^iptables-save( -c)?$/,
  'iptables-save-table': /^iptables-save( -c)? -t (nat|filter|mangle|raw)$/,
  'iptables-list-chain': /^iptables -w 5 -t (nat|filter|mangle|raw) -S (KUBE-[A-Z0-9-]{1,60}|PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)( -v)?$/,
  'ip6tables-save': /^ip6tables-save( -c)?$/,
  'ip6tables-list-chain': /^ip6tables -w 5 -t (nat|filter|mangle|raw) -S (KUBE-[A-Z0-9-]{1,60}|PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)( -v)?$/,
  'ip6tables-save-table': /^ip6tables-save( -c)? -t (nat|filter|mangle|raw)$/,
  'ip6tables-version': /^ip6tables -V$/,
  'iptables-legacy-save': /^iptables-legacy-save$/,
  'iptables-nft-save': /^iptables-nft-save$/,
  'iptables-version': /^iptables -V$/,
  'nft-list-kube-proxy': /^nft -j list table ip6? kube-proxy$/,
  'nft-probe-kube-proxy': /^nft list chain ip6? kube-proxy services$/,
  'ipvsadm-save': /^ipvsadm -S -n$/,
  'ipvsadm-stats': /^ipvsadm -L -n --stats --exact$/,
  'ipset-save': /^ipset save$/,
  'proc-ip-vs': /^cat \/proc\/net\/ip_vs$/,
  'conntrack-list': /^conntrack -L( -d [0-9.]{7,15}| -f ipv6 -d [0-9a-f:.]{2,45})?$/,
}

/**
 * What `iptables -V` prints for each backend: `iptables v1.8.9 (nf_tables)` → nft; `(legacy)`, or a
 * version before 1.8 (which names no backend: no other existed) → legacy. Neither list matches the
 * other backend's text, so they can be tested in any order (the node read's compound command tests
 * for legacy first).
 */
export const BACKEND_MARKERS = {
  nft: ['(nf_tables)'],
  legacy: ['(legacy)', 'iptables v1.3.', 'iptables v1.4.', 'iptables v1.6.'],
} as const

/** The same for `ip6tables -V` (`ip6tables v1.4.21`: its name is not `iptables`). */
export const BACKEND_MARKERS6 = {
  nft: ['(nf_tables)'],
  legacy: ['(legacy)', 'ip6tables v1.3.', 'ip6tables v1.4.', 'ip6tables v1.6.'],
} as const

/** The backend `iptables -V` (or, with BACKEND_MARKERS6, `ip6tables -V`) names, or undefined when it names none. */
export function iptablesBackendOf(
  versionText: string,
  markers: typeof BACKEND_MARKERS | typeof BACKEND_MARKERS6 = BACKEND_MARKERS,
): 'legacy' | 'nft' | undefined {
  const says = (texts: readonly string[]) => texts.some((t) => versionText.includes(t))
  return says(markers.nft) ? 'nft' : says(markers.legacy) ? 'legacy' : undefined
}

/**
 * The `grep -E` pattern that keeps, of an `iptables-save -t TABLE` dump, the table line, COMMIT and the
 * declarations and rules of `chains` only: a legacy node's table read without sending the rest (every
 * chain name is checked as for a listing; the pattern goes between double quotes, and holds no `$`,
 * backquote, backslash-newline or quote).
 */
export function keepPattern(chains: readonly string[]): string {
  if (chains.length === 0) throw new UnsafeArgumentError('a kept-chains filter needs at least one chain')
  const names = [...new Set(chains.map(chainName))].join('|')
  // `[12:720] -A …` when saved with -c: `[[]` and `]` match the brackets without a backslash.
  return `^([*]|COMMIT|:(${names}) |([[][0-9]+:[0-9]+] )?-A (${names}) )`
}

const SAFE_WORD = /^[A-Za-z0-9_./:=@%+-]+$/

/**
 * The command as one line for a remote shell (SSH runs a shell). Every word must be on the allow
 * list's alphabet, so nothing needs quoting and nothing can be injected; `sudo -n` never prompts.
 * `localeSet`: the line runs in a script that has exported LC_ALL=C already (batch.ts), so it needs
 * no `env` of its own (one exec fewer per command).
 */
export function shellLine(cmd: NodeCommand, sudo: boolean, localeSet = false): string {
  const line = cmd.argv.join(' ')
  if (!ALLOWED[cmd.id]?.test(line) || !cmd.argv.every((w) => SAFE_WORD.test(w))) {
    throw new UnsafeArgumentError(`refusing to run "${line}": not on the allow-list`)
  }
  // LC_ALL=C: tool messages in English, so errors can be recognised. env goes before sudo, so sudo
  // runs the tool itself and a sudoers line naming only the tools allows it (sudo either keeps LC_ALL
  // or resets the locale, which is C as well); `env` after sudo would need env itself in sudoers,
  // which would allow any command.
  return `${localeSet ? '' : 'env LC_ALL=C '}${sudo ? 'sudo -n ' : ''}${line}`
}
