// The other iptables backend (iptables-legacy beside iptables-nft, or the reverse): its rules are counted,
// not traced, and a count above zero is the iptables-legacy-and-nft finding. A live read and a bundle
// (--from) both count here, so the same node text gives the same finding whichever way it was read.

// Rules of kube-proxy's own Service chains. kubelet creates KUBE-KUBELET-CANARY, KUBE-MARK-DROP,
// KUBE-FIREWALL and KUBE-POSTROUTING in whichever backend it uses, which says nothing about a second
// kube-proxy: `-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000` is kubelet's, not a Service's.
const KUBE_PROXY_RULE = /^-A KUBE-(SERVICES|NODEPORTS|SVC-|SVL-|EXT-|FW-|SEP-|XLB-)/

/**
 * kube-proxy's Service rules in the nat table of an iptables-save text: `-A` lines of KUBE-SERVICES,
 * KUBE-NODEPORTS and the per-Service chains (KUBE-SVC-, SVL-, EXT-, FW-, SEP-, XLB-). Not every
 * `-A KUBE-` line of every table, because (1) kubelet's chains live in every node's backend and would
 * flag healthy nodes, and (2) a live read saves every table (`iptables-legacy-save`) while a bundle's
 * iptables-legacy-save.txt is captured with `-t nat`: counting nat only gives both the same number.
 * Stale rules that DNAT to gone endpoints are nat rules; kube-proxy's filter-table rules never exist
 * without its nat KUBE-SERVICES ones. A text without a `*table` line (`iptables -t nat -S`) is nat.
 */
export function countKubeProxyRules(iptablesSave: string): number {
  let inNat = !/^\*/m.test(iptablesSave)
  let count = 0
  for (let start = 0; start < iptablesSave.length;) {
    const newline = iptablesSave.indexOf('\n', start)
    const end = newline < 0 ? iptablesSave.length : newline
    const line = iptablesSave.slice(start, end)
    if (line.startsWith('*')) inNat = line.trim() === '*nat'
    else if (inNat && KUBE_PROXY_RULE.test(line)) count++
    start = end + 1
  }
  return count
}
