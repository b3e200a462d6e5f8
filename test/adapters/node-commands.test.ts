// Node commands built only from validated values, on the allow list, and refused otherwise: the ip6tables
// commands (kube-proxy's IPv6 rules) like their iptables twins, and the --counters variants.
import {describe, expect, it} from 'vitest'
import {ALLOWED, keepPattern, nodeCommands, shellLine, UnsafeArgumentError, type NodeCommand} from '../../src/adapters/node/commands.js'

describe('ip6tables commands', () => {
  it.each([
    ['ip6tables-save', nodeCommands.ip6tablesSave()],
    ['ip6tables -w 5 -t nat -S KUBE-SVC-CDGGSHYLG3RE2FKL', nodeCommands.ip6tablesListChain('nat', 'KUBE-SVC-CDGGSHYLG3RE2FKL')],
    ['ip6tables -w 5 -t filter -S INPUT', nodeCommands.ip6tablesListChain('filter', 'INPUT')],
    ['ip6tables-save -t nat', nodeCommands.ip6tablesSaveTable('nat')],
    ['ip6tables -V', nodeCommands.ip6tablesVersion()],
  ])('%s: built, on the allow list, run with sudo -n', (line, cmd) => {
    expect(cmd.argv.join(' ')).toBe(line)
    expect(ALLOWED[cmd.id].test(line)).toBe(true)
    expect(shellLine(cmd, true)).toBe(`env LC_ALL=C sudo -n ${line}`)
  })

  it.each([
    ['a table that is none', () => nodeCommands.ip6tablesListChain('nat;reboot', 'KUBE-SERVICES')],
    ['a chain that is no kube-proxy chain', () => nodeCommands.ip6tablesListChain('nat', 'DOCKER')],
    ['shell in a chain name', () => nodeCommands.ip6tablesListChain('nat', 'KUBE-SVC-X;rm -rf /')],
    ['a table that is none, saved whole', () => nodeCommands.ip6tablesSaveTable('nat $(reboot)')],
  ])('refuses %s, as iptablesListChain does', (_what, build) => {
    expect(build).toThrow(UnsafeArgumentError)
  })

  it.each<[string, NodeCommand]>([
    ['iptables under the ip6tables id', {id: 'ip6tables-list-chain', argv: ['iptables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SERVICES']}],
    ['an extra word', {id: 'ip6tables-save', argv: ['ip6tables-save', '-t', 'nat']}],
    ['a forged chain', {id: 'ip6tables-list-chain', argv: ['ip6tables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SVC-`x`']}],
    ['iptables-save under the ip6tables table id', {id: 'ip6tables-save-table', argv: ['iptables-save', '-t', 'nat']}],
    ['another flag under the version id', {id: 'ip6tables-version', argv: ['ip6tables', '-L']}],
  ])('shellLine refuses a forged command: %s', (_what, cmd) => {
    expect(() => shellLine(cmd, false)).toThrow(UnsafeArgumentError)
  })
})

describe('--counters variants', () => {
  it.each([
    ['iptables-save -c', nodeCommands.iptablesSave(true)],
    ['iptables-save -c -t nat', nodeCommands.iptablesSaveTable('nat', true)],
    ['iptables -w 5 -t nat -S KUBE-SEP-SJXFB47F7IT5FQLL -v', nodeCommands.iptablesListChain('nat', 'KUBE-SEP-SJXFB47F7IT5FQLL', true)],
    ['ip6tables-save -c', nodeCommands.ip6tablesSave(true)],
    ['ip6tables -w 5 -t filter -S INPUT -v', nodeCommands.ip6tablesListChain('filter', 'INPUT', true)],
    ['ip6tables-save -c -t filter', nodeCommands.ip6tablesSaveTable('filter', true)],
    ['ipvsadm -L -n --stats --exact', nodeCommands.ipvsadmStats()],
  ])('%s: built, on the allow list', (line, cmd) => {
    expect(cmd.argv.join(' ')).toBe(line)
    expect(ALLOWED[cmd.id].test(line)).toBe(true)
    expect(shellLine(cmd, false)).toBe(`env LC_ALL=C ${line}`)
  })

  it.each<[string, NodeCommand]>([
    ['a counter flag in the wrong place', {id: 'iptables-save-table', argv: ['iptables-save', '-t', 'nat', '-c']}],
    ['-v on a save', {id: 'iptables-save', argv: ['iptables-save', '-v']}],
    ['ipvsadm --stats with names on', {id: 'ipvsadm-stats', argv: ['ipvsadm', '-L', '--stats', '--exact']}],
  ])('shellLine refuses %s', (_what, cmd) => {
    expect(() => shellLine(cmd, false)).toThrow(UnsafeArgumentError)
  })

  it('the kept-chains filter lets `[pkts:bytes] -A CHAIN` lines of iptables-save -c through, for those chains only', () => {
    const pattern = new RegExp(keepPattern(['KUBE-SERVICES', 'KUBE-SEP-X']))
    expect(pattern.test('[9120:547200] -A KUBE-SEP-X -p tcp -j DNAT --to-destination 10.0.0.1:80')).toBe(true)
    expect(pattern.test('-A KUBE-SEP-X -p tcp -j DNAT --to-destination 10.0.0.1:80')).toBe(true)
    expect(pattern.test('[1:60] -A KUBE-SEP-Y -p tcp -j DNAT --to-destination 10.0.0.2:80')).toBe(false)
    expect(keepPattern(['KUBE-SEP-X'])).not.toMatch(/[$`\\"]/)
  })
})
