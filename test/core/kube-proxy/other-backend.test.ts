// What counts as kube-proxy's rules in the other iptables backend: its Service chains in nat, never
// kubelet's chains, never a table other than nat, never text inside a rule.
import {describe, expect, it} from 'vitest'
import {countKubeProxyRules} from '../../../src/core/kube-proxy/other-backend.js'

describe('countKubeProxyRules', () => {
  it.each<[string, string, number]>([
    ['nothing', '', 0],
    ['an empty backend', '# empty\n', 0],
    [
      'every Service chain of nat',
      '*nat\n-A KUBE-SERVICES -j KUBE-SVC-A\n-A KUBE-NODEPORTS -j KUBE-EXT-A\n-A KUBE-SVC-A -j KUBE-SEP-A\n-A KUBE-SVL-A -j KUBE-SEP-A\n-A KUBE-EXT-A -j KUBE-SVC-A\n-A KUBE-FW-A -j KUBE-EXT-A\n-A KUBE-SEP-A -j DNAT\n-A KUBE-XLB-A -j KUBE-SVC-A\nCOMMIT\n',
      8,
    ],
    [
      "kubelet's chains",
      '*nat\n:KUBE-KUBELET-CANARY - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n-A KUBE-POSTROUTING -j MASQUERADE\nCOMMIT\n*filter\n-A KUBE-FIREWALL -j DROP\nCOMMIT\n',
      0,
    ],
    ['the filter table', '*filter\n-A KUBE-SERVICES -d 10.96.0.20/32 -j REJECT\n-A KUBE-NODEPORTS -j ACCEPT\nCOMMIT\n', 0],
    [
      'nat among other tables',
      '*mangle\n-A KUBE-SERVICES -j X\nCOMMIT\n*nat\n-A KUBE-SERVICES -j KUBE-SVC-A\nCOMMIT\n*filter\n-A KUBE-SERVICES -j REJECT\nCOMMIT\n',
      1,
    ],
    [
      '`-A KUBE-` inside a rule, and chain declarations',
      '*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -m comment --comment "-A KUBE-SERVICES" -j KUBE-SERVICES\nCOMMIT\n',
      0,
    ],
    ['`iptables -t nat -S` (no table line)', '-N KUBE-SERVICES\n-A KUBE-SERVICES -j KUBE-SVC-A\n-A KUBE-SVC-A -j KUBE-SEP-A\n', 2],
    ['CRLF line ends', '*nat\r\n-A KUBE-SERVICES -j KUBE-SVC-A\r\nCOMMIT\r\n', 1],
  ])('%s', (_name, text, n) => {
    expect(countKubeProxyRules(text)).toBe(n)
  })
})
