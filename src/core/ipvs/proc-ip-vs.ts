// /proc/net/ip_vs, the kernel's IPVS listing (ip_vs_ctl.c ip_vs_info_seq_show): what a kube-proxy
// pod can read without ipvsadm. Same layout as `ipvsadm -Ln`, but addresses and ports are hex, and
// `persistent` prints the kernel's own timeout (svc->timeout, in ticks: seconds × HZ) and netmask.
//
//   TCP  0A600001:01BB rr persistent 10800 FFFFFFFF
//     -> C0A80001:192B      Masq    1      1          0
//   UDP  [fd00:0000:0000:0000:0000:0000:0000:000a]:0035 rr
import {canonicalIP} from '../address.js'
import {DumpError} from '../iptables/dump.js'
import type {Protocol} from '../model.js'
import type {IpvsTable, VirtualServer} from './ipvsadm.js'

const HEX_V4 = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/
const HEX_V6 = /^\[((?:[0-9a-fA-F]{4}:){7}[0-9a-fA-F]{4})\]:([0-9A-Fa-f]{4})$/

/** True when the first virtual-server line carries a hex address (ipvsadm prints dotted ones). */
export function looksLikeProcIpVs(all: string[]): boolean {
  const vs = all.map((l) => l.trim().split(/\s+/)).find((w) => /^(TCP|UDP|SCTP)$/.test(w[0] ?? ''))
  return vs !== undefined && (HEX_V4.test(vs[1] ?? '') || HEX_V6.test(vs[1] ?? ''))
}

function hexAddress(text: string, source: string, line: number): {ip: string; port: number} {
  // Both patterns' groups always take part in a match.
  const v4 = HEX_V4.exec(text)
  if (v4) {
    const [, addr = '', port = ''] = v4
    const n = parseInt(addr, 16)
    return {ip: [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.'), port: parseInt(port, 16)}
  }
  const v6 = HEX_V6.exec(text)
  if (v6) {
    const [, addr = '', port = ''] = v6
    return {ip: canonicalIP(addr), port: parseInt(port, 16)}
  }
  throw new DumpError(source, line, `"${text}" is not a hex ADDRESS:PORT as /proc/net/ip_vs prints it`)
}

/** Parses /proc/net/ip_vs; errors name the line. */
export function parseProcIpVs(all: string[], source: string): IpvsTable {
  const services: VirtualServer[] = []
  let current: VirtualServer | undefined
  all.forEach((raw, i) => {
    const line = i + 1
    const text = raw.trim()
    if (text === '' || text.startsWith('IP Virtual Server version') || text.startsWith('Prot LocalAddress') || text.startsWith('-> RemoteAddress')) return
    const words = text.split(/\s+/)
    if (words[0] === '->') {
      const [, rip, forward, weightText] = words
      const weight = Number(weightText)
      if (!current || rip === undefined || forward === undefined || weightText === undefined || !Number.isInteger(weight) || weight < 0) {
        throw new DumpError(source, line, `expected "-> HEXADDR:PORT Forward Weight ActiveConn InActConn" after a virtual server, found "${text.slice(0, 60)}"`)
      }
      current.realServers.push({...hexAddress(rip, source, line), weight, forward: forward.toLowerCase(), line, text})
      return
    }
    const [name = '', vipText, scheduler] = words
    if (!/^(TCP|UDP|SCTP|FWM)$/.test(name) || vipText === undefined || scheduler === undefined) {
      throw new DumpError(source, line, `expected "TCP|UDP|SCTP HEXADDR:PORT SCHEDULER …", found "${text.slice(0, 60)}"`)
    }
    const protocol = name as Protocol | 'FWM'
    const vip = protocol === 'FWM' ? {ip: '', port: 0, fwmark: parseInt(vipText, 16)} : hexAddress(vipText, source, line)
    const p = words.indexOf('persistent')
    const persistentTicks = p > 0 ? Number(words[p + 1]) : undefined
    current = {
      protocol,
      ...vip,
      scheduler,
      ...(persistentTicks !== undefined ? {persistentTicks} : {}),
      flags: [...words.slice(3, p > 0 ? p : undefined), ...(p > 0 && words[p + 2] && words[p + 2] !== 'FFFFFFFF' ? [`mask ${words[p + 2]}`] : [])],
      realServers: [],
      line,
      text,
    }
    services.push(current)
  })
  return {source, format: 'proc', services}
}
