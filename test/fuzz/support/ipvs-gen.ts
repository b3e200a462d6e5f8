// Generated IPVS tables in the three printouts svctrace reads (ipvsadm -Sn, ipvsadm -Ln,
// /proc/net/ip_vs) and ipsets in both of ipset's (save, list), from one random model each.
import fc from 'fast-check'
import {address} from './destinations.js'

const port = fc.oneof(fc.integer({min: 0, max: 65535}), fc.constantFrom(-1, 70000))
const server = fc.record({ip: address, port, weight: fc.oneof(fc.integer({min: 0, max: 100}), fc.constantFrom(-1, 1.5))})
const virtual = fc.record({
  protocol: fc.constantFrom('TCP', 'UDP', 'SCTP', 'FWM'),
  ip: address,
  port,
  scheduler: fc.constantFrom('rr', 'wrr', 'lc', 'wlc', 'sh', 'mh', 'fo', 'x'),
  persistent: fc.option(fc.oneof(fc.nat(), fc.constant(-5)), {nil: undefined}),
  reals: fc.array(server, {maxLength: 5}),
})
const table = fc.array(virtual, {maxLength: 6})
type Virtual = typeof virtual extends fc.Arbitrary<infer T> ? T : never

const hostPort = (ip: string, p: number) => (ip.includes(':') ? `[${ip}]:${p}` : `${ip}:${p}`)
const SAVE_FLAG: Record<string, string> = {TCP: '-t', UDP: '-u', SCTP: '--sctp-service', FWM: '-f'}

function saveText(t: Virtual[]): string {
  return t
    .flatMap((v) => {
      const vip = v.protocol === 'FWM' ? String(v.port) : hostPort(v.ip, v.port)
      const head = `-A ${SAVE_FLAG[v.protocol]} ${vip} -s ${v.scheduler}${v.persistent !== undefined ? ` -p ${v.persistent}` : ''}`
      return [head, ...v.reals.map((r) => `-a ${SAVE_FLAG[v.protocol]} ${vip} -r ${hostPort(r.ip, r.port)} -m -w ${r.weight}`)]
    })
    .join('\n')
}

function listText(t: Virtual[]): string {
  const head = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ]
  const body = t.flatMap((v) => [
    `${v.protocol}  ${v.protocol === 'FWM' ? v.port : hostPort(v.ip, v.port)} ${v.scheduler}${v.persistent !== undefined ? ` persistent ${v.persistent}` : ''}`,
    ...v.reals.map((r) => `  -> ${hostPort(r.ip, r.port)}      Masq    ${r.weight}      0          0`),
  ])
  return [...head, ...body].join('\n')
}

const hex = (n: number, width: number) => (n >>> 0).toString(16).toUpperCase().padStart(width, '0').slice(-width)
function hexAddress(ip: string, p: number): string {
  if (!ip.includes(':'))
    return `${hex(
      ip.split('.').reduce((a, o) => a * 256 + Number(o), 0),
      8,
    )}:${hex(p, 4)}`
  return `[${Array.from({length: 8}, (_, i) => hex(i * 7919 + ip.length, 4).toLowerCase()).join(':')}]:${hex(p, 4)}`
}

function procText(t: Virtual[]): string {
  const head = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
  ]
  const body = t.flatMap((v) => [
    `${v.protocol}  ${v.protocol === 'FWM' ? hex(v.port, 8) : hexAddress(v.ip, v.port)} ${v.scheduler} ${v.persistent !== undefined ? `persistent ${v.persistent} FFFFFFFF` : ''}`,
    ...v.reals.map((r) => `  -> ${hexAddress(r.ip, r.port)}      Masq    ${r.weight}      0          0`),
  ])
  return [...head, ...body].join('\n')
}

/** An IPVS table as ipvsadm -Sn, ipvsadm -Ln or /proc/net/ip_vs prints it. */
export const ipvsText: fc.Arbitrary<{format: 'save' | 'list' | 'proc'; text: string}> = fc
  .tuple(fc.constantFrom('save' as const, 'list' as const, 'proc' as const), table)
  .map(([format, t]) => ({format, text: format === 'save' ? saveText(t) : format === 'list' ? listText(t) : procText(t)}))

const setName = fc.constantFrom('KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK', 'KUBE-NODE-PORT-TCP', 'KUBE-IPVS-IPS', 'KUBE-LOAD-BALANCER-LOCAL', 'X')
const member = fc.oneof(
  address,
  fc.tuple(address, fc.constantFrom('tcp', 'udp', 'sctp'), port).map(([a, p, n]) => `${a},${p}:${n}`),
  fc.tuple(address, port, address).map(([a, n, b]) => `${a},tcp:${n},${b}`),
  fc.string({unit: 'binary-ascii', maxLength: 12}),
)
const sets = fc.array(
  fc.record({
    name: setName,
    type: fc.constantFrom('hash:ip', 'hash:ip,port', 'hash:ip,port,ip', 'bitmap:port'),
    members: fc.array(member, {maxLength: 6}),
    announced: fc.option(fc.nat({max: 8})),
  }),
  {maxLength: 4},
)

/** ipsets as ipset save or ipset list prints them (a list may announce a wrong entry count). */
export const ipsetText: fc.Arbitrary<string> = fc
  .tuple(fc.boolean(), sets)
  .map(([save, s]) =>
    save
      ? s.flatMap((x) => [`create ${x.name} ${x.type} family inet hashsize 1024 maxelem 65536`, ...x.members.map((m) => `add ${x.name} ${m}`)]).join('\n')
      : s
          .flatMap((x) => [
            `Name: ${x.name}`,
            `Type: ${x.type}`,
            'Revision: 5',
            'Header: family inet hashsize 1024 maxelem 65536',
            `Number of entries: ${x.announced ?? x.members.length}`,
            'Members:',
            ...x.members,
            '',
          ])
          .join('\n'),
  )
