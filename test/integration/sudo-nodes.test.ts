// --sudo against a real sudo: a user who is not root logs in to a real sshd in a node namespace and
// reads the node's rules through `sudo -n`, allowed by exactly the sudoers line the README gives
// (its paths mapped to where the tools are here). Checked: a whole read and a one-Service read (the
// compound command) come back as root's own iptables-save; a tool the line does not name is that
// node's error saying passwordless sudo is needed for it, never a prompt; a node without sudo says so.
//
// Needs root, sshd, ssh-keygen, sudo, visudo and useradd (see requireRoot): outside CI a missing
// prerequisite skips with a printed reason; with CI set it fails. The user (home under /tmp) and its
// sudoers file are removed afterwards.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {nodeCommands} from '../../src/adapters/node/commands.js'
import {NodeAccessError} from '../../src/adapters/node/connector.js'
import {readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {SshConnector} from '../../src/adapters/ssh/connector.js'
import {planCollection} from '../../src/core/collection-plan.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {captureOf} from '../../src/core/captures.js'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import {attachTestProcessToLan, cleanupLeftovers, normalizeIptablesSave, requireRoot, Topology, unusedTestSubnet} from '../support/netns.js'
import {generateClientKey, Sshd, tempDir, writeHashedKnownHosts, type ClientKey} from '../support/sshd.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))
const README = fileURLToPath(new URL('../../README.md', import.meta.url))
const env = requireRoot(['sshd', 'ssh-keygen', 'sudo', 'visudo', 'useradd', 'userdel'], 'sudo-nodes')

/** The README's sudoers line for `user`, each tool's path as `command -v` finds it here (a tool not installed keeps the README's path). */
function readmeSudoers(user: string): string {
  const text = readFileSync(README, 'utf8').replace(/\n/g, ' ')
  const line = /`core ALL=\(root\) NOPASSWD: ([^`]+)`/.exec(text)?.[1]
  if (!line) throw new Error('README.md has no sudoers line `core ALL=(root) NOPASSWD: …`')
  const entries = line.split(/,\s*/).map((entry) => {
    const [tool = '', ...args] = entry.trim().split(/\s+/)
    const here = execFileSync('sh', ['-c', `command -v ${path.basename(tool)} || echo ${tool}`], {encoding: 'utf8'}).trim()
    return [here, ...args].join(' ')
  })
  return `${user} ALL=(root) NOPASSWD: ${entries.join(', ')}\n`
}

describe.skipIf(env.skip)('--sudo with the README sudoers line, through a real sudo', () => {
  let topo: Topology | undefined
  let work: ReturnType<typeof tempDir> | undefined
  let sshd: Sshd | undefined
  /** The same node on port 2222 for sessions whose PATH has env and no sudo: a node without sudo. */
  let noSudo: Sshd | undefined
  let key: ClientKey
  let knownHosts: string
  let address = ''
  const user = `svct${process.pid % 100000}`
  const sudoers = `/etc/sudoers.d/svctrace-test-${user}`
  let made = false

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    const subnet = await unusedTestSubnet()
    const prefix = subnet.split('.').slice(0, 3).join('.')
    address = `${prefix}.11`
    work = tempDir('sudo-nodes')
    topo = await Topology.create({lanCIDR: subnet, nodes: [{name: 'node1', ip: address, podCIDR: '10.244.1.0/24'}], pods: []}, {label: 'sudo'})
    await topo.loadRules('node1', readFileSync(path.join(FIXTURE, 'nodes/node1/iptables-save.txt'), 'utf8'))
    await attachTestProcessToLan(topo, `${prefix}.2`)
    // Password '*': no password login, but not a locked account, which sshd (without PAM) refuses keys for too.
    execFileSync('useradd', ['--create-home', '--home-dir', `/tmp/${user}-home`, '--shell', '/bin/sh', '--password', '*', user])
    made = true
    const rules = readmeSudoers(user)
    writeFileSync(sudoers, rules, {mode: 0o440})
    execFileSync('visudo', ['-cf', sudoers])
    key = await generateClientKey(work.dir, 'id_test')
    sshd = await Sshd.start(topo, {member: 'node1', address, authorizedKeys: [key.publicKey], anyUser: true})
    const envOnly = path.join(work.dir, 'env-only')
    mkdirSync(envOnly)
    symlinkSync(execFileSync('sh', ['-c', 'command -v env'], {encoding: 'utf8'}).trim(), path.join(envOnly, 'env'))
    noSudo = await Sshd.start(topo, {member: 'node1', address, port: 2222, authorizedKeys: [key.publicKey], env: {PATH: envOnly}})
    knownHosts = path.join(work.dir, 'known_hosts')
    await writeHashedKnownHosts(knownHosts, [`${address} ${sshd.hostPublicKey}`, `[${address}]:2222 ${noSudo.hostPublicKey}`])
  })

  afterAll(async () => {
    if (existsSync(sudoers)) rmSync(sudoers)
    if (made) execFileSync('userdel', ['--remove', user])
    await sshd?.destroy()
    await noSudo?.destroy()
    await topo?.destroy()
    work?.remove()
  })

  const connect = (as = user, port = 22) =>
    new SshConnector({
      user: as,
      keyFile: key.privateKeyPath,
      knownHostsFiles: [knownHosts],
      home: work?.dir,
      port,
      connectTimeoutMs: 5_000,
      commandTimeoutMs: 20_000,
      sudo: true,
    }).connect({name: 'node1', address})

  it('iptables-save as root, one command line: `env LC_ALL=C sudo -n iptables-save`', async () => {
    const session = await connect()
    try {
      const got = await session.run(nodeCommands.iptablesSave())
      expect(normalizeIptablesSave(got.stdout)).toEqual(normalizeIptablesSave(await topo!.saveRules('node1')))
      expect(sshd!.commands().at(-1)).toBe('env LC_ALL=C sudo -n iptables-save')
    } finally {
      await session.close()
    }
  })

  it("a one-Service read (one compound command, every step through sudo) is root's view of the rules", async () => {
    const view = parseClusterFile(readFileSync(path.join(FIXTURE, 'cluster.yaml'), 'utf8'), 'cluster.yaml')
    const plan = planCollection(indexCluster(view), {kind: 'service', service: 'frontend', namespace: 'storefront'})
    const session = await connect()
    try {
      const dp = await readNodeDataplane(session, 'node1', plan)
      expect(dp.readError).toBeUndefined()
      const save = captureOf(dp, 'iptables-save')?.text ?? ''
      expect(save).toMatch(/^-A KUBE-SERVICES .*storefront\/frontend/m)
      expect(sshd!.commands().at(-1)).toMatch(/^sh -c '.*LC_ALL=C; export LC_ALL; .*; g version sudo -n iptables -V;/)
    } finally {
      await session.close()
    }
  })

  it('a tool the sudoers line does not name is refused by sudo -n, as the node error that says so', async () => {
    const session = await connect()
    try {
      const err = await session.run(nodeCommands.conntrackList()).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(NodeAccessError)
      expect((err as NodeAccessError).kind).toBe('sudo')
      expect((err as NodeAccessError).message).toBe('--sudo needs passwordless sudo for conntrack on node1 (sudo: a password is required)')
    } finally {
      await session.close()
    }
  })

  it('--sudo on a node without sudo says so', async () => {
    const s = await connect('root', 2222)
    try {
      const err = await s.run(nodeCommands.iptablesSave()).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect((err as NodeAccessError).kind).toBe('sudo')
      expect((err as NodeAccessError).message).toBe('--sudo: sudo is not installed on node1; log in as root instead (--ssh-user root)')
      expect(noSudo!.commands().at(-1)).toBe('env LC_ALL=C sudo -n iptables-save')
    } finally {
      await s.close()
    }
  })
})
