// Reading the IPVS table (ipvsadm -Sn, -Ln, /proc/net/ip_vs) and the ipsets (ipset save, ipset list):
// the forms agree, odd input is read or refused with a message naming the line, nothing crashes.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {familySetName, parseIpset} from '../../../src/core/ipvs/ipset.js'
import {parseIpvsTable, type IpvsTable} from '../../../src/core/ipvs/ipvsadm.js'
import {dumpErrorOf as errorOf} from '../../support/errors.js'
import {at, first} from '../../support/defined.js'

const dir = fileURLToPath(new URL('../../fixtures/samples/ipvs/', import.meta.url))
const read = (f: string) => readFileSync(dir + f, 'utf8')

/** What a trace uses of a table, independent of the form it came in. */
function essence(t: IpvsTable) {
  return t.services.map((vs) => ({
    vs: `${vs.protocol} ${vs.ip}:${vs.port} ${vs.scheduler}${vs.persistentSeconds !== undefined ? ` p${vs.persistentSeconds}` : ''}`,
    rs: vs.realServers.map((r) => `${r.ip}:${r.port} w${r.weight} ${r.forward}`),
  }))
}

describe('ipvsadm', () => {
  const scenarios = ['nodeport', 'nodeport-local', 'loadbalancer-source-ranges', 'session-affinity-no-endpoints', 'clusterip-multi-endpoints']
  it.each(scenarios)('-Ln and -Sn of %s describe the same table', (s) => {
    const list = parseIpvsTable(read(`ipvs-1.26-${s}.ipvsadm-list.txt`), 'list')
    const save = parseIpvsTable(read(`ipvs-1.26-${s}.ipvsadm-save.txt`), 'save')
    expect([list.format, save.format]).toEqual(['list', 'save'])
    const byVs = (t: IpvsTable) => essence(t).sort((a, b) => a.vs.localeCompare(b.vs))
    expect(byVs(list)).toEqual(byVs(save))
    expect(list.services.length).toBeGreaterThan(0)
  })

  it('reads /proc/net/ip_vs: hex addresses and ports, persistence in ticks', () => {
    const proc = parseIpvsTable(read('derived/ipvs-readme.proc-net-ip_vs.txt'), 'proc')
    expect(proc.format).toBe('proc')
    expect(essence(proc)).toEqual([
      {vs: 'TCP 10.0.0.1:443 rr', rs: ['192.168.0.1:6443 w1 masq']},
      {vs: 'TCP 10.0.0.10:53 rr', rs: ['172.17.0.2:53 w1 masq']},
      {vs: 'UDP 10.0.0.10:53 rr', rs: ['172.17.0.2:53 w1 masq']},
    ])
    expect(first(proc.services).persistentTicks).toBe(2700000)
  })

  it('reads IPv6, weights, draining servers, other forwarders and flags', () => {
    const t = parseIpvsTable(
      [
        '-A -t [fd00::a]:443 -s wrr -p 600 -M 64',
        '-a -t [fd00::a]:443 -r [fd00:1::5]:8443 -m -w 3',
        '-a -t [fd00::a]:443 -r [fd00:1::6]:8443 -m -w 0',
        '-A --sctp-service 10.0.0.7:9000 -s sh -b sh-port',
        '-a --sctp-service 10.0.0.7:9000 -r 10.1.0.1:9000 -g -w 1',
        '-A -f 7 -s rr',
      ].join('\n'),
      'odd.txt',
    )
    expect(essence(t)).toEqual([
      {vs: 'TCP fd00::a:443 wrr p600', rs: ['fd00:1::5:8443 w3 masq', 'fd00:1::6:8443 w0 masq']},
      {vs: 'SCTP 10.0.0.7:9000 sh', rs: ['10.1.0.1:9000 w1 route']},
      {vs: 'FWM :0 rr', rs: []},
    ])
    expect(first(t.services).flags).toEqual(['-M 64'])
    expect(at(t.services, 2).fwmark).toBe(7)
  })

  it('reads -Ln flags after the scheduler and trailing spaces', () => {
    const t = parseIpvsTable(
      'TCP  10.0.0.1:443 rr persistent 10800 mask 255.255.255.0 ops\n  -> 192.168.0.1:6443             Masq    1      0          0         \n',
      'ln',
    )
    expect(essence(t)).toEqual([{vs: 'TCP 10.0.0.1:443 rr p10800', rs: ['192.168.0.1:6443 w1 masq']}])
    expect(first(t.services).flags).toEqual(['mask 255.255.255.0', 'ops'])
  })

  // One dual-stack node's IPv6 virtual servers in the three printouts: ipvsadm writes `[addr]:port`
  // (addrport_to_anyname), the kernel `[%pI6]:%04X`, every group four hex digits (ip_vs_ctl.c ip_vs_info_seq_show).
  const v6Forms: Array<[string, string[]]> = [
    [
      'ipvsadm -Sn',
      [
        '-A -t [fd00:10:96::a]:80 -s rr',
        '-a -t [fd00:10:96::a]:80 -r [fd00:10:244::10]:8080 -m -w 1',
        '-a -t [fd00:10:96::a]:80 -r [fd00:10:244::11]:8080 -m -w 0',
      ],
    ],
    [
      'ipvsadm -Ln',
      [
        'IP Virtual Server version 1.2.1 (size=4096)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  [fd00:10:96::a]:80 rr',
        '  -> [fd00:10:244::10]:8080       Masq    1      0          0         ',
        '  -> [fd00:10:244::11]:8080       Masq    0      3          0         ',
      ],
    ],
    [
      '/proc/net/ip_vs',
      [
        'IP Virtual Server version 1.2.1 (size=4096)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
        'TCP  [fd00:0010:0096:0000:0000:0000:0000:000a]:0050 rr ',
        '  -> [fd00:0010:0244:0000:0000:0000:0000:0010]:1F90      Masq    1      0          0         ',
        '  -> [fd00:0010:0244:0000:0000:0000:0000:0011]:1F90      Masq    0      3          0         ',
      ],
    ],
  ]
  it.each(v6Forms)('reads IPv6 virtual and real servers from %s', (_, lines) => {
    const t = parseIpvsTable(lines.join('\n'), 'v6')
    expect(essence(t)).toEqual([{vs: 'TCP fd00:10:96::a:80 rr', rs: ['fd00:10:244::10:8080 w1 masq', 'fd00:10:244::11:8080 w0 masq']}])
  })

  it("reads the dual-stack IPVS fixture's table, both families, alike from -Ln, -Sn and /proc/net/ip_vs", () => {
    const t = parseIpvsTable(readFileSync(new URL('../../fixtures/dual-stack-ipvs-v1.26/nodes/node-a/ipvsadm.txt', import.meta.url), 'utf8'), 'node-a')
    expect(t.format).toBe('list')
    const save = parseIpvsTable(read('derived/dual-stack-ipvs-v1.26.ipvsadm-save.txt'), 'save')
    const proc = parseIpvsTable(read('derived/dual-stack-ipvs-v1.26.proc-net-ip_vs.txt'), 'proc')
    expect([save.format, proc.format]).toEqual(['save', 'proc'])
    expect(essence(save)).toEqual(essence(t))
    expect(essence(proc)).toEqual(essence(t))
    expect(t.services.map((vs) => `${vs.ip}:${vs.port} ${vs.realServers.length}`)).toEqual([
      '10.96.0.10:80 2',
      '192.168.49.2:30080 2',
      'fd00:10:96::a:80 2',
      'fd00:10:96::b6:443 1',
      'fd00:192:168:49::2:30080 2',
    ])
  })

  it('an empty table is empty, not an error', () => {
    expect(
      parseIpvsTable(
        'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n',
        'e',
      ).services,
    ).toEqual([])
    expect(parseIpvsTable('', 'e').services).toEqual([])
  })

  const bad: Array<[string, string, number, RegExp]> = [
    ['names instead of numbers (no -n)', '-A -t kubernetes.default.svc:https -s rr\n', 1, /not IP:PORT; capture the table with names off: ipvsadm -Sn/],
    ['a real server before its service (cut at the top)', '-a -t 10.0.0.1:443 -r 192.168.0.1:6443 -m -w 1\n', 1, /before its "-A" line/],
    [
      'a save line cut in the middle',
      '-A -t 10.0.0.1:443 -s rr\n-a -t 10.0.0.1:4',
      2,
      /real server for 10.0.0.1:4 before its "-A" line: the save output is out of order or cut/,
    ],
    ['a list cut inside a real-server line', 'TCP  10.0.0.1:443 rr\n  -> 192.168.0.1:6443             Ma', 2, /expected "-> RIP:PORT Forward Weight/],
    ['a real server with no service above it', '  -> 192.168.0.1:6443 Masq 1 0 0\n', 1, /before any virtual server/],
    [
      '--stats output',
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n',
      2,
      /--stats or --rate/,
    ],
    [
      'connection listing (-Lnc)',
      'IPVS connection entries\npro expire state       source             virtual            destination\nTCP 14:59  ESTABLISHED 10.0.0.5:4242 10.0.0.1:443 192.168.0.1:6443\n',
      1,
      /expected "TCP\|UDP\|SCTP\|FWM/,
    ],
    ['a weight that is not a number', '-A -t 10.0.0.1:443 -s rr\n-a -t 10.0.0.1:443 -r 192.168.0.1:6443 -m -w heavy\n', 2, /weight "heavy" is not a number/],
    ['garbage', 'ipvsadm: command not found\n', 1, /expected "TCP\|UDP/],
    ['a proc line with a bad hex address', 'TCP  0A000001:01BB rr\n  -> C0A8:192B Masq 1 0 0\n', 2, /not a hex ADDRESS:PORT/],
  ]
  it.each(bad)('refuses %s, naming the line', (_what, text, line, message) => {
    const err = errorOf(() => parseIpvsTable(text, 'nodes/n1/ipvsadm.txt'))
    expect(err.line).toBe(line)
    expect(err.message).toMatch(/^nodes\/n1\/ipvsadm\.txt:\d+: /)
    expect(err.message).toMatch(message)
  })
})

describe('ipset', () => {
  it('ipset save (add lines only, as kube-proxy dumps them) and ipset list agree', () => {
    const save = parseIpset(read('ipvs-1.26-loadbalancer-source-ranges.ipset-save.txt'), 'save')
    const list = parseIpset(read('derived/ipvs-1.26-loadbalancer-source-ranges.ipset-list.txt'), 'list')
    const members = (s: ReturnType<typeof parseIpset>) =>
      [...s.sets.values()]
        .filter((x) => x.entries.length > 0)
        .map((x) => `${x.name}: ${x.entries.map((e) => e.parts.join(',')).join(' ')}`)
        .sort()
    expect(members(save)).toEqual(members(list))
    expect(save.declared).toBe(false)
    expect(list.declared).toBe(true)
    expect(list.sets.get('KUBE-LOAD-BALANCER-SOURCE-CIDR')?.type).toBe('hash:ip,port,net')
    expect(list.sets.get('KUBE-HEALTH-CHECK-NODE-PORT')?.entries).toEqual([])
  })

  it('reads create lines, member options (timeout, comment) and comments', () => {
    const s = parseIpset(
      '# ipset save\ncreate KUBE-NODE-PORT-TCP bitmap:port range 0-65535\nadd KUBE-NODE-PORT-TCP 30080 timeout 10\nadd KUBE-LOOP-BACK 10.1.0.5,tcp:80,10.1.0.5 comment "hairpin"\n',
      's',
    )
    expect(s.sets.get('KUBE-NODE-PORT-TCP')).toMatchObject({type: 'bitmap:port', entries: [{parts: ['30080'], line: 3}]})
    expect(s.sets.get('KUBE-LOOP-BACK')?.entries[0]?.parts).toEqual(['10.1.0.5', 'tcp:80', '10.1.0.5'])
  })

  it("reads the IPv6 proxier's sets (family inet6, KUBE-6- names) from a real ipset save", () => {
    const s = parseIpset(readFileSync(new URL('../../fixtures/dual-stack-ipvs-v1.26/nodes/node-a/ipset.txt', import.meta.url), 'utf8'), 'node-a')
    expect(s.sets.get('KUBE-6-CLUSTER-IP')).toMatchObject({
      type: 'hash:ip,port',
      entries: [{parts: ['fd00:10:96::b6', 'tcp:443']}, {parts: ['fd00:10:96::a', 'tcp:80']}],
    })
    expect(s.sets.get('KUBE-6-LOOP-BACK')?.entries.map((e) => e.parts)).toContainEqual(['fd00:10:244::20', 'tcp:8443', 'fd00:10:244::20'])
    expect(s.sets.get('KUBE-CLUSTER-IP')?.entries.map((e) => e.parts)).toEqual([['10.96.0.10', 'tcp:80']])
  })

  // kube-proxy's IPv6 proxier renames KUBE-… to KUBE-6-… and cuts at ipset's 31 characters (ipset.go NewIPSet).
  const names: Array<[string, string, 4 | 6, string]> = [
    ['dual-stack node', 'KUBE-CLUSTER-IP', 4, 'KUBE-CLUSTER-IP'],
    ['dual-stack node', 'KUBE-CLUSTER-IP', 6, 'KUBE-6-CLUSTER-IP'],
    ['dual-stack node', 'KUBE-LOAD-BALANCER-SOURCE-CIDR', 6, 'KUBE-6-LOAD-BALANCER-SOURCE-CID'],
    ['dual-stack node', 'KUBE-NODE-PORT-LOCAL-TCP', 6, 'KUBE-6-NODE-PORT-LOCAL-TCP'],
    ['IPv6-only node of a kube-proxy before v1.20 (plain names)', 'KUBE-CLUSTER-IP', 6, 'KUBE-CLUSTER-IP'],
  ]
  it.each(names)('%s: %s of IPv%s is %s', (what, base, family, want) => {
    const text = what.startsWith('dual')
      ? 'create KUBE-CLUSTER-IP hash:ip,port family inet\ncreate KUBE-6-CLUSTER-IP hash:ip,port family inet6\n'
      : 'create KUBE-CLUSTER-IP hash:ip,port family inet6\n'
    expect(familySetName(parseIpset(text, 's'), base, family)).toBe(want)
  })

  const bad: Array<[string, string, number, RegExp]> = [
    [
      'a list cut inside the members',
      'Name: KUBE-CLUSTER-IP\nType: hash:ip,port\nNumber of entries: 3\nMembers:\n10.96.0.1,tcp:443\n',
      5,
      /announces 3 entries but lists 1: the listing is cut short/,
    ],
    [
      'a terse listing (ipset list -t)',
      'Name: KUBE-CLUSTER-IP\nType: hash:ip,port\nNumber of entries: 3\n\nName: KUBE-IPVS-IPS\nType: hash:ip\n',
      1,
      /no "Members:" section: the listing is terse/,
    ],
    ['an add line without a member', 'add KUBE-CLUSTER-IP\n', 1, /"add" needs a set name and a member/],
    [
      'something that is not ipset output',
      'ipset v7.17: Kernel error received: Operation not permitted\n',
      1,
      /expected "create SET TYPE …" or "add SET MEMBER"/,
    ],
    ['a header line the list form does not have', 'Name: KUBE-CLUSTER-IP\nbogus\n', 2, /unexpected line "bogus" in the headers/],
  ]
  it.each(bad)('refuses %s, naming the line', (_what, text, line, message) => {
    const err = errorOf(() => parseIpset(text, 'nodes/n1/ipset.txt'))
    expect(err.line).toBe(line)
    expect(err.message).toMatch(message)
  })
})
