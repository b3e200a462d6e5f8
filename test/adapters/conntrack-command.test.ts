// `conntrack -L -d IP`: the address is validated (and made canonical) before it reaches a command line;
// anything else is refused before the node is asked.
import {describe, expect, it} from 'vitest'
import {ALLOWED, nodeCommands, shellLine, UnsafeArgumentError, type NodeCommand} from '../../src/adapters/node/commands.js'

describe('conntrack commands', () => {
  it.each([
    ['conntrack -L', undefined],
    ['conntrack -L -d 10.96.0.10', '10.96.0.10'],
    ['conntrack -L -f ipv6 -d fd00:10:96::a', 'fd00:10:96:0::A'],
    ['conntrack -L -f ipv6 -d ::ffff:a60:a', '::ffff:10.96.0.10'],
  ])('%s: built, on the allow list, run with sudo -n', (line, address) => {
    const cmd = nodeCommands.conntrackList(address)
    expect(cmd.argv.join(' ')).toBe(line)
    expect(ALLOWED[cmd.id].test(line)).toBe(true)
    expect(shellLine(cmd, true)).toBe(`env LC_ALL=C sudo -n ${line}`)
  })

  it.each([
    ['a name', 'kube-dns.kube-system'],
    ['a CIDR', '10.96.0.0/16'],
    ['shell', '10.96.0.10;reboot'],
    ['an option', '-D'],
    ['empty', ''],
  ])('refuses %s as the destination', (_what, address) => {
    expect(() => nodeCommands.conntrackList(address)).toThrow(UnsafeArgumentError)
  })

  it.each<[string, NodeCommand]>([
    ['a delete under the list id', {id: 'conntrack-list', argv: ['conntrack', '-D', '-d', '10.96.0.10']}],
    ['a flush', {id: 'conntrack-list', argv: ['conntrack', '-F']}],
    ['an extra word', {id: 'conntrack-list', argv: ['conntrack', '-L', '-d', '10.96.0.10', '-o', 'extended']}],
    ['a name as the address', {id: 'conntrack-list', argv: ['conntrack', '-L', '-d', 'evil.example']}],
  ])('shellLine refuses a forged command: %s', (_what, cmd) => {
    expect(() => shellLine(cmd, false)).toThrow(UnsafeArgumentError)
  })
})
