// Service DNS names as users type them (parseServiceDnsName, parseNameDestination): one row per spelling.
import {describe, expect, it} from 'vitest'
import {looksLikeDnsName, parseNameDestination, parseServiceDnsName} from '../../src/core/dns-name.js'

describe('parseServiceDnsName', () => {
  it.each([
    ['kube-dns.kube-system', {name: 'kube-dns', namespace: 'kube-system', fqdn: 'kube-dns.kube-system'}],
    ['kube-dns.kube-system.svc', {name: 'kube-dns', namespace: 'kube-system', fqdn: 'kube-dns.kube-system.svc'}],
    ['kube-dns.kube-system.svc.cluster.local', {name: 'kube-dns', namespace: 'kube-system', fqdn: 'kube-dns.kube-system.svc.cluster.local'}],
    // A trailing dot (an absolute name) and capitals are DNS; another cluster domain is accepted.
    ['Web.Shop.svc.k8s.example.', {name: 'web', namespace: 'shop', fqdn: 'web.shop.svc.k8s.example'}],
    ['a.0ns', {name: 'a', namespace: '0ns', fqdn: 'a.0ns'}],
  ])('%s', (text, expected) => {
    expect(parseServiceDnsName(text)).toEqual(expected)
  })

  it.each([
    ['web', 'names no namespace'],
    ['web.shop.pod.cluster.local', 'the third label must be "svc"'],
    ['0web.shop', 'Service name "0web" is no DNS label'],
    ['web-.shop', 'Service name "web-" is no DNS label'],
    ['web.sh_op', 'namespace "sh_op" is no DNS label'],
    ['web..svc', 'an empty namespace'],
    ['web.shop.svc.cluster..local', 'an empty cluster domain label'],
    [`${'a'.repeat(64)}.shop`, 'is longer than 63 characters'],
    [`web.shop.svc.${'a.'.repeat(130)}local`, 'is longer than 253 characters'],
  ])('%s is refused: %s', (text, problem) => {
    const r = parseServiceDnsName(text)
    expect('error' in r && r.error).toContain(problem)
    expect('error' in r && r.error).toContain('expected NAME.NAMESPACE[.svc[.cluster.local]]')
  })
})

describe('parseNameDestination (--ip NAME.NS[:PORT][/PROTO])', () => {
  it.each([
    ['kube-dns.kube-system', {dns: {name: 'kube-dns', namespace: 'kube-system', fqdn: 'kube-dns.kube-system'}}],
    ['kube-dns.kube-system:53/udp', {dns: {name: 'kube-dns', namespace: 'kube-system', fqdn: 'kube-dns.kube-system'}, port: 53, protocol: 'UDP'}],
    [
      'kube-dns.kube-system.svc.cluster.local/tcp',
      {dns: {name: 'kube-dns', namespace: 'kube-system', fqdn: 'kube-dns.kube-system.svc.cluster.local'}, protocol: 'TCP'},
    ],
  ])('%s', (text, expected) => {
    expect(parseNameDestination(text)).toEqual(expected)
  })

  it.each([
    ['kube-dns.kube-system:70000', 'port 70000 is out of range 1-65535'],
    ['kube-dns.kube-system:53/icmp', 'unknown protocol "icmp"'],
  ])('%s is refused: %s', (text, problem) => {
    const r = parseNameDestination(text)
    expect('error' in r && r.error).toContain(problem)
  })
})

describe('looksLikeDnsName', () => {
  it.each([
    ['kube-dns.kube-system', true],
    ['10.96.0.10', false],
    ['fd00::a', false],
    ['localhost', false],
  ])('%s → %s', (text, expected) => {
    expect(looksLikeDnsName(text)).toBe(expected)
  })
})
