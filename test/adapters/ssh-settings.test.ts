// Where and as whom svctrace connects: --bastion parsing, --ssh-host-template, and ~/.ssh/config read
// without ever running a Match exec command.
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
  applyHostTemplate,
  displayPath,
  expandPath,
  isHostName,
  lookupSshConfig,
  nodeAddress,
  parseBastion,
  readSshConfig,
} from '../../src/adapters/ssh/settings.js'

const home = mkdtempSync(path.join(tmpdir(), 'svctrace-ssh-settings-'))
mkdirSync(path.join(home, '.ssh'))
afterAll(() => rmSync(home, {recursive: true, force: true}))

function config(name: string, text: string): string {
  const f = path.join(home, '.ssh', name)
  writeFileSync(f, text)
  return f
}

const ctx = {home, localUser: 'me'}

describe('parseBastion', () => {
  it.each([
    ['core@10.0.0.1:2222', {user: 'core', host: '10.0.0.1', port: 2222}],
    ['jump.example.com', {host: 'jump.example.com'}],
    ['admin@jump', {user: 'admin', host: 'jump'}],
    ['jump:22', {host: 'jump', port: 22}],
    ['ops@[fd00::1]:2200', {user: 'ops', host: 'fd00::1', port: 2200}],
  ])('%s', (spec, want) => {
    expect(parseBastion(spec)).toEqual(want)
  })

  it.each([
    ['core@10.0.0.1:99999', /not a port number/],
    ['core@10.0.0.1:22;reboot', /not a port number/],
    ['a;reboot@10.0.0.1', /not a user name/],
    ['core@$(reboot)', /not a host name/],
    ['core@-oProxyCommand=x', /not a host name/],
    ['', /not a host name/],
  ])('refuses %s', (spec, why) => {
    expect(() => parseBastion(spec)).toThrow(why)
  })
})

describe('host names and templates', () => {
  it.each([
    ['10.0.0.3', true],
    ['node-a.example.com', true],
    ['fd00::3', true],
    ['1.2.3.4$(reboot)', false],
    ['-oProxyCommand=sh', false],
    ['a b', false],
    ['`id`', false],
  ])('isHostName(%s) is %s', (host, ok) => {
    expect(isHostName(host)).toBe(ok)
  })

  it('fills {name} and {address}', () => {
    expect(applyHostTemplate('{name}.nodes.example.com', {name: 'node-a', address: '10.0.0.3'})).toBe('node-a.nodes.example.com')
    expect(applyHostTemplate('{address}', {name: 'node-a', address: '10.0.0.3'})).toBe('10.0.0.3')
  })

  it('dials the InternalIP, or the ExternalIP when asked', () => {
    const addresses = [
      {type: 'Hostname', address: 'node-a'},
      {type: 'ExternalIP', address: '203.0.113.3'},
      {type: 'InternalIP', address: '10.0.0.3'},
      {type: 'InternalIP', address: 'fd00::3'},
    ]
    expect(nodeAddress(addresses)).toBe('10.0.0.3')
    expect(nodeAddress(addresses, 'ExternalIP')).toBe('203.0.113.3')
    expect(nodeAddress(addresses.slice(0, 1), 'ExternalIP')).toBeUndefined()
    expect(nodeAddress(undefined)).toBeUndefined()
  })

  it('expands ~ and tokens in paths, and shows home as ~', () => {
    expect(expandPath('~/.ssh/id_%u_%h', {...ctx, host: 'node-a'})).toBe(path.join(home, '.ssh/id_me_node-a'))
    expect(expandPath('%d/k%%', ctx)).toBe(`${home}/k%`)
    expect(displayPath(path.join(home, '.ssh/id_ed25519'), home)).toBe('~/.ssh/id_ed25519')
    expect(displayPath('/etc/ssh/key', home)).toBe('/etc/ssh/key')
  })
})

describe('ssh config', () => {
  it('gives HostName (with %h), User, Port, IdentityFile (~ expanded), first match wins', () => {
    const file = config(
      'config-basic',
      `
Host node-*
  HostName %h.nodes.example.com
  User core
  Port 2222
  IdentityFile ~/.ssh/nodes_key
  IdentityFile %d/.ssh/second_%r

Host *
  User fallback
  Port 22
`,
    )
    const got = lookupSshConfig(readSshConfig(file, home), 'node-a', ctx)
    expect(got).toEqual({
      hostName: 'node-a.nodes.example.com',
      user: 'core',
      port: 2222,
      identityFiles: [path.join(home, '.ssh/nodes_key'), path.join(home, '.ssh/second_core')],
    })
    expect(lookupSshConfig(readSshConfig(file, home), '10.0.0.3', ctx)).toEqual({user: 'fallback', port: 22, identityFiles: []})
  })

  it('never runs Match exec', () => {
    const marker = path.join(home, 'match-exec-ran')
    const file = config(
      'config-exec',
      `
Match exec "touch ${marker}"
  User from-exec

Host *
  User plain
`,
    )
    const got = lookupSshConfig(readSshConfig(file, home), 'node-a', ctx)
    expect(existsSync(marker)).toBe(false)
    expect(got.user).toBe('plain')
  })

  it('follows Include (relative to ~/.ssh, with a wildcard)', () => {
    mkdirSync(path.join(home, '.ssh', 'config.d'), {recursive: true})
    config('config.d/10-nodes', 'Host node-*\n  User included\n  ProxyJump ops@jump:2200\n')
    config('config.d/20-more', 'Host other\n  User other\n')
    const file = config('config-include', 'Include config.d/*\n\nHost *\n  User fallback\n')
    const cfg = readSshConfig(file, home)
    expect(lookupSshConfig(cfg, 'node-a', ctx)).toMatchObject({user: 'included', proxyJump: 'ops@jump:2200'})
    expect(lookupSshConfig(cfg, 'other', ctx).user).toBe('other')
    expect(lookupSshConfig(cfg, 'x', ctx).user).toBe('fallback')
  })

  it('reads IdentityAgent none and IdentityFile none', () => {
    const file = config('config-agent', 'Host a\n  IdentityAgent none\n  IdentityFile none\nHost b\n  IdentityAgent ~/agent.sock\n')
    const cfg = readSshConfig(file, home)
    expect(lookupSshConfig(cfg, 'a', ctx)).toEqual({identityAgent: 'none', identityFiles: []})
    expect(lookupSshConfig(cfg, 'b', ctx)).toEqual({identityAgent: path.join(home, 'agent.sock'), identityFiles: []})
  })

  it('treats a missing file as empty and refuses a bad Port', () => {
    expect(lookupSshConfig(readSshConfig(path.join(home, 'nope'), home), 'a', ctx)).toEqual({identityFiles: []})
    const bad = config('config-bad-port', 'Host *\n  Port 22;reboot\n')
    expect(() => lookupSshConfig(readSshConfig(bad, home), 'a', ctx)).toThrow(/not a port number/)
  })
})
