// The ip6tables commands (kube-proxy's IPv6 rules): built only from validated values, on the allow list,
// and refused like their iptables twins for anything else.
import {describe, expect, it} from 'vitest'
import {ALLOWED, nodeCommands, shellLine, UnsafeArgumentError, type NodeCommand} from '../../src/adapters/node/commands.js'

describe('ip6tables commands', () => {
  it.each([
    ['ip6tables-save', nodeCommands.ip6tablesSave()],
    ['ip6tables -w 5 -t nat -S KUBE-SVC-CDGGSHYLG3RE2FKL', nodeCommands.ip6tablesListChain('nat', 'KUBE-SVC-CDGGSHYLG3RE2FKL')],
    ['ip6tables -w 5 -t filter -S INPUT', nodeCommands.ip6tablesListChain('filter', 'INPUT')],
  ])('%s: built, on the allow list, run with sudo -n', (line, cmd) => {
    expect(cmd.argv.join(' ')).toBe(line)
    expect(ALLOWED[cmd.id].test(line)).toBe(true)
    expect(shellLine(cmd, true)).toBe(`sudo -n env LC_ALL=C ${line}`)
  })

  it.each([
    ['a table that is none', () => nodeCommands.ip6tablesListChain('nat;reboot', 'KUBE-SERVICES')],
    ['a chain that is no kube-proxy chain', () => nodeCommands.ip6tablesListChain('nat', 'DOCKER')],
    ['shell in a chain name', () => nodeCommands.ip6tablesListChain('nat', 'KUBE-SVC-X;rm -rf /')],
  ])('refuses %s, as iptablesListChain does', (_what, build) => {
    expect(build).toThrow(UnsafeArgumentError)
  })

  it.each<[string, NodeCommand]>([
    ['iptables under the ip6tables id', {id: 'ip6tables-list-chain', argv: ['iptables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SERVICES']}],
    ['an extra word', {id: 'ip6tables-save', argv: ['ip6tables-save', '-t', 'nat']}],
    ['a forged chain', {id: 'ip6tables-list-chain', argv: ['ip6tables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SVC-`x`']}],
  ])('shellLine refuses a forged command: %s', (_what, cmd) => {
    expect(() => shellLine(cmd, false)).toThrow(UnsafeArgumentError)
  })
})
