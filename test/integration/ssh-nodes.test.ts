// SshConnector against real OpenSSH servers: three node namespaces (test/support/netns.ts), each running
// sshd on its own address with its own host key (test/support/sshd.ts), with the kube-proxy rules of
// the two-node-iptables-v1.26 reference bundle loaded into their netfilter (node3 carries node1's rules
// and listens on port 2222). The test process joins the node LAN through a veth, so the connector dials
// the node addresses itself, exactly as it would dial real nodes.
//
// Checked: iptables-save over SSH is what the namespace's own iptables-save prints; a stopped sshd, a
// changed host key, an unknown host each stop only their node with their message; the exact known_hosts
// line offered is accepted once added; --insecure-ignore-host-keys; a bastion hop through node1 with both
// keys checked; the agent; and the sshd-side record of every command line run, which must be exactly
// what the audit hook saw and all on the allow-list, with hostile inputs refused before any of it.
//
// Needs root, sshd, ssh-keygen, ssh-agent (see requireRoot): outside CI a missing prerequisite skips with
// a printed reason; with CI set it fails.
import {appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fingerprintSha256} from '../../src/adapters/ssh/known-hosts.js'
import {ALLOWED, nodeCommands, UnsafeArgumentError, type NodeCommand, type NodeCommandId} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type CommandResult, type NodeTarget} from '../../src/adapters/node/connector.js'
import type {BatchStep} from '../../src/adapters/node/batch.js'
import {SshConnector, type SshOptions} from '../../src/adapters/ssh/connector.js'
import {attachTestProcessToLan, cleanupLeftovers, normalizeIptablesSave, requireRoot, Topology, unusedTestSubnet} from '../support/netns.js'
import {startRelay} from '../../bench/relay.js'
import {generateClientKey, sshKeygenFingerprint, Sshd, startAgent, tempDir, writeHashedKnownHosts, type ClientKey} from '../support/sshd.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26/nodes', import.meta.url))
const RULES = {
  node1: readFileSync(path.join(FIXTURE, 'node1', 'iptables-save.txt'), 'utf8'),
  node2: readFileSync(path.join(FIXTURE, 'node2', 'iptables-save.txt'), 'utf8'),
}
const NODES = [
  {name: 'node1', host: 11, port: 22, rules: RULES.node1},
  {name: 'node2', host: 12, port: 22, rules: RULES.node2},
  {name: 'node3', host: 13, port: 2222, rules: RULES.node1},
] as const
type NodeName = (typeof NODES)[number]['name']

const env = requireRoot(['sshd', 'ssh-keygen', 'ssh-agent', 'ssh-add'], 'ssh-nodes')

interface Outcome {
  stdout?: string
  error?: NodeAccessError
}

describe.skipIf(env.skip)('SSH to real sshd in node namespaces', () => {
  let topo: Topology | undefined
  let work: ReturnType<typeof tempDir> | undefined
  const sshd = {} as Record<NodeName, Sshd>
  const ip = {} as Record<NodeName, string>
  let key: ClientKey
  let rsaKey: ClientKey
  let knownHosts: string
  let sshConfig: string
  let lanPrefix = ''
  const audit: {node: string; line: string}[] = []

  const targets = (): NodeTarget[] => NODES.map((n) => ({name: n.name, address: ip[n.name]}))
  const line = (n: NodeName) => `${n === 'node3' ? `[${ip[n]}]:2222` : ip[n]} ${sshd[n].hostPublicKey}`

  function connector(opts: Partial<SshOptions> = {}): SshConnector {
    return new SshConnector({
      user: 'root',
      keyFile: key.privateKeyPath,
      knownHostsFiles: [knownHosts],
      sshConfigFile: sshConfig,
      home: work?.dir,
      connectTimeoutMs: 5_000,
      commandTimeoutMs: 20_000,
      audit: (node, l) => audit.push({node, line: l}),
      ...opts,
    })
  }

  /**
   * Reads iptables-save from every target at once; each node fails or succeeds on its own. `first`: as a
   * one-step batch handed to the connection before it is ready (as the node reader does).
   */
  async function traceAll(c: SshConnector, ts = targets(), first = false): Promise<Record<string, Outcome>> {
    const results = await Promise.all(
      ts.map(async (t): Promise<[string, Outcome]> => {
        try {
          const steps: BatchStep[] = [{id: 'save', cmd: nodeCommands.iptablesSave()}]
          const s = await c.connect(t, first ? {steps} : undefined)
          try {
            if (first) {
              const save = (await s.runBatch!(steps)).get('save')
              if (!save || save instanceof Error) throw save ?? new Error('no output for save')
              return [t.name, {stdout: save.stdout}]
            }
            return [t.name, {stdout: (await s.run(nodeCommands.iptablesSave())).stdout}]
          } finally {
            await s.close()
          }
        } catch (err) {
          if (!(err instanceof NodeAccessError)) throw err
          return [t.name, {error: err}]
        }
      }),
    )
    return Object.fromEntries(results)
  }

  async function expectRulesOf(node: NodeName, stdout: string | undefined): Promise<void> {
    expect(stdout, `${node} was not read`).toBeDefined()
    expect(normalizeIptablesSave(stdout ?? '')).toEqual(normalizeIptablesSave(await topo!.saveRules(node)))
  }

  /** Runs `use` with a relay adding 50 ms each way in front of node1's sshd, and a known_hosts file for it. */
  async function throughSlowLink(name: string, use: (relay: Awaited<ReturnType<typeof startRelay>>, knownHostsFile: string) => Promise<void>): Promise<void> {
    const relay = await startRelay({listen: {host: '127.0.0.1', port: 0}, target: {host: ip.node1, port: 22}, delayMs: 50, quietMs: 20})
    try {
      const kh = path.join(work!.dir, `kh-${name}`)
      await writeHashedKnownHosts(kh, [`[127.0.0.1]:${relay.address.port} ${sshd.node1.hostPublicKey}`])
      await use(relay, kh)
    } finally {
      await relay.close()
    }
  }

  /** A home whose default keys are a stranger's ed25519 key (tried first, refused) and then the test key. */
  async function homeWithRefusedKeyFirst(name: string): Promise<string> {
    const home = path.join(work!.dir, name)
    mkdirSync(path.join(home, '.ssh'), {recursive: true})
    await generateClientKey(path.join(home, '.ssh'), 'id_ed25519')
    copyFileSync(key.privateKeyPath, path.join(home, '.ssh', 'id_ecdsa'))
    return home
  }

  async function writeKnownHosts(nodes: NodeName[]): Promise<void> {
    await writeHashedKnownHosts(knownHosts, nodes.map(line))
  }

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    const subnet = await unusedTestSubnet()
    lanPrefix = subnet.split('.').slice(0, 3).join('.')
    for (const n of NODES) ip[n.name] = `${lanPrefix}.${n.host}`
    topo = await Topology.create(
      {lanCIDR: subnet, nodes: NODES.map((n, i) => ({name: n.name, ip: ip[n.name], podCIDR: `10.244.${i + 1}.0/24`})), pods: []},
      {label: 'ssh'},
    )
    for (const n of NODES) await topo.loadRules(n.name, n.rules)
    await attachTestProcessToLan(topo, `${lanPrefix}.2`)
    work = tempDir('ssh-nodes')
    key = await generateClientKey(work.dir, 'id_test')
    rsaKey = await generateClientKey(work.dir, 'id_rsa_test', 'rsa')
    for (const n of NODES)
      sshd[n.name] = await Sshd.start(topo, {member: n.name, address: ip[n.name], port: n.port, authorizedKeys: [key.publicKey, rsaKey.publicKey]})
    knownHosts = path.join(work.dir, 'known_hosts')
    await writeKnownHosts(['node1', 'node2', 'node3'])
    sshConfig = path.join(work.dir, 'ssh_config')
    writeFileSync(sshConfig, `Host ${ip.node3}\n  Port 2222\n\nMatch exec "touch ${path.join(work.dir, 'match-exec-ran')}"\n  User nobody\n`)
  })

  afterAll(async () => {
    await Promise.all(Object.values(sshd).map((s) => s.destroy()))
    await topo?.destroy()
    work?.remove()
  })

  it('iptables-save over SSH is what each namespace prints, read from every node at once', async () => {
    const got = await traceAll(connector())
    for (const n of NODES) await expectRulesOf(n.name, got[n.name]?.stdout)
    // Really three namespaces: node3 has node1's rules, not node2's.
    expect(normalizeIptablesSave(got.node3?.stdout ?? '')).toEqual(normalizeIptablesSave(RULES.node1))
    expect(normalizeIptablesSave(got.node2?.stdout ?? '')).toEqual(normalizeIptablesSave(RULES.node2))
    // node3 was reached on the ssh config's Port 2222; the config's Match exec never ran.
    expect(existsSync(path.join(work!.dir, 'match-exec-ran'))).toBe(false)
  })

  it('a node whose sshd is stopped is unreachable; the others still trace', async () => {
    await sshd.node2.stop()
    try {
      const gone = {name: 'node-gone', address: `${lanPrefix}.99`}
      const got = await traceAll(connector(), [...targets(), gone])
      expect(got.node2?.error?.kind).toBe('unreachable')
      expect(got.node2?.error?.message).toBe(`cannot connect to node2 (${ip.node2}:22): connection refused; is sshd running and port 22 open?`)
      expect(got['node-gone']?.error?.kind).toBe('unreachable')
      expect(got['node-gone']?.error?.message).toBe(
        `cannot connect to node-gone (${lanPrefix}.99:22): no route to host; is the node up, and is ${lanPrefix}.99 its address?`,
      )
      await expectRulesOf('node1', got.node1?.stdout)
      await expectRulesOf('node3', got.node3?.stdout)
    } finally {
      await sshd.node2.start()
    }
  })

  it('a changed host key stops that node with both fingerprints and nothing run; the others still trace', async () => {
    const oldFp = await sshKeygenFingerprint(work!.dir, sshd.node3.hostPublicKey)
    await sshd.node3.regenerateHostKey()
    try {
      const newFp = await sshKeygenFingerprint(work!.dir, sshd.node3.hostPublicKey)
      expect(newFp).not.toBe(oldFp)
      const commands = sshd.node3.commands().length
      audit.length = 0
      const got = await traceAll(connector())
      const err = got.node3?.error
      expect(err?.kind).toBe('host-key')
      expect(err?.message).toContain(
        `HOST KEY CHANGED for node3 (${ip.node3}:2222) (expected ${oldFp} (ssh-ed25519, ~/known_hosts:3), got ${newFp} (ssh-ed25519))`,
      )
      expect(err?.message).toContain('possible man-in-the-middle; nothing was run')
      expect(sshd.node3.commands().length).toBe(commands)
      expect(audit.filter((a) => a.node === 'node3')).toEqual([])
      await expectRulesOf('node1', got.node1?.stdout)
      await expectRulesOf('node2', got.node2?.stdout)
    } finally {
      await writeKnownHosts(['node1', 'node2', 'node3'])
    }
  })

  it('an unknown host gets the exact line to add, and that line is then accepted', async () => {
    const partial = path.join(work!.dir, 'known_hosts_partial')
    await writeHashedKnownHosts(partial, [line('node1')])
    const got = await traceAll(connector({knownHostsFiles: [partial]}))
    for (const n of ['node2', 'node3'] as const) {
      const err = got[n]?.error
      expect(err?.kind).toBe('host-key')
      const fp = await sshKeygenFingerprint(work!.dir, sshd[n].hostPublicKey)
      expect(fingerprintSha256(sshd[n].hostKeyBlob)).toBe(fp)
      expect(err?.message).toContain(`unknown host key for ${n} (${ip[n]}:${n === 'node3' ? 2222 : 22}): ${fp} (ssh-ed25519); nothing was run`)
      const offered = /add this line to ~\/known_hosts_partial: (.+), or pass --insecure-ignore-host-keys$/.exec(err?.message ?? '')?.[1]
      expect(offered).toBe(line(n))
      appendFileSync(partial, `${offered}\n`)
    }
    expect(line('node3')).toMatch(new RegExp(`^\\[${ip.node3.replace(/\./g, '\\.')}\\]:2222 ssh-ed25519 AAAA`))
    await expectRulesOf('node1', got.node1?.stdout)
    const again = await traceAll(connector({knownHostsFiles: [partial]}))
    for (const n of NODES) await expectRulesOf(n.name, again[n.name]?.stdout)
  })

  it('--insecure-ignore-host-keys reads every node with no known_hosts at all', async () => {
    const got = await traceAll(connector({knownHostsFiles: [path.join(work!.dir, 'missing')], insecureIgnoreHostKeys: true}))
    for (const n of NODES) await expectRulesOf(n.name, got[n.name]?.stdout)
  })

  it('goes through a bastion (node1) to node2 and node3, one bastion login, both hops checked', async () => {
    const accepted = (n: NodeName) => sshd[n].log.split('\n').filter((l) => l.startsWith('Accepted publickey for root')).length
    const bastion = {user: 'root', host: ip.node1, port: 22}
    const before = {node1: accepted('node1'), node1Commands: sshd.node1.commands().length}
    const got = await traceAll(connector({bastion}), targets().slice(1))
    await expectRulesOf('node2', got.node2?.stdout)
    await expectRulesOf('node3', got.node3?.stdout)
    expect(accepted('node1') - before.node1).toBe(1)
    // The first batch sent with the login works through the bastion's forwarded channel too (one login more there).
    const primed = await traceAll(connector({bastion}), targets().slice(1), true)
    await expectRulesOf('node2', primed.node2?.stdout)
    await expectRulesOf('node3', primed.node3?.stdout)
    expect(accepted('node1') - before.node1).toBe(2)
    expect(sshd.node1.commands().length).toBe(before.node1Commands)
    // The targets saw the bastion's address as the client: the connections really came through node1.
    expect(sshd.node2.log).toContain(`Accepted publickey for root from ${ip.node1} port`)
    expect(sshd.node3.log).toContain(`Accepted publickey for root from ${ip.node1} port`)

    const noBastionKey = path.join(work!.dir, 'kh-no-bastion')
    await writeHashedKnownHosts(noBastionKey, [line('node2'), line('node3')])
    const e1 = (await traceAll(connector({bastion, knownHostsFiles: [noBastionKey]}), targets().slice(1, 2))).node2?.error
    expect(e1?.kind).toBe('host-key')
    expect(e1?.message).toContain(`unknown host key for bastion ${ip.node1} (${ip.node1}:22): ${fingerprintSha256(sshd.node1.hostKeyBlob)}`)

    const noTargetKey = path.join(work!.dir, 'kh-no-target')
    await writeHashedKnownHosts(noTargetKey, [line('node1')])
    const e2 = (await traceAll(connector({bastion, knownHostsFiles: [noTargetKey]}), targets().slice(2))).node3?.error
    expect(e2?.kind).toBe('host-key')
    expect(e2?.message).toContain(`unknown host key for node3 (${ip.node3}:2222 via bastion root@${ip.node1}:22)`)
    expect(e2?.message).toContain(`add this line to ~/kh-no-target: ${line('node3')}, or pass`)
  })

  it('a refused key, then an RSA key: each offered with its signature, the RSA one as rsa-sha2 (OpenSSH refuses ssh-rsa)', async () => {
    const rsaHome = path.join(work!.dir, 'rsa-home')
    mkdirSync(path.join(rsaHome, '.ssh'), {recursive: true})
    await generateClientKey(path.join(rsaHome, '.ssh'), 'id_ed25519')
    copyFileSync(rsaKey.privateKeyPath, path.join(rsaHome, '.ssh', 'id_rsa'))
    const accepted = () => sshd.node1.log.split('\n').filter((l) => /^Accepted publickey for root .* RSA SHA256:/.test(l)).length
    const before = accepted()
    const got = await traceAll(connector({keyFile: undefined, home: rsaHome, sshConfigFile: undefined}), targets().slice(0, 1))
    await expectRulesOf('node1', got.node1?.stdout)
    expect(accepted()).toBe(before + 1)
  })

  it("opens the first command's channel with the signed key request, and the next one's while the first runs: a round trip fewer each through a slow link", async () => {
    // 50 ms each way between the client and node1's sshd; the relay counts the client's turns (sends after waiting for the server).
    await throughSlowLink('relay', async (relay, kh) => {
      const target = {name: 'node1', address: '127.0.0.1'}
      const turns = async (c: SshConnector): Promise<number> => {
        const at = relay.connections.length
        const got = await traceAll(c, [target])
        await expectRulesOf('node1', got.node1?.stdout)
        expect(await relay.idle(5_000)).toBe(true)
        const conns = relay.connections.slice(at)
        expect(conns).toHaveLength(1)
        return conns[0]!.turns
      }
      const sessions = () => sshd.node1.log.split('\n').filter((l) => l.startsWith('Starting session: ')).length
      const before = sessions()
      // KEXINIT (after the server's version), ECDH (after its KEXINIT), NEWKEYS with the signed key
      // request and the channel open behind it, the exec (once the channel is confirmed), the close.
      // Opening the channel after USERAUTH_SUCCESS instead takes 7: the open, and the answer to sshd's
      // host-keys message, which then goes on its own.
      const direct = await turns(connector({port: relay.address.port, knownHostsFiles: [kh]}))
      expect(direct).toBe(5)
      // A refused key first: its request is answered, the channel opened with it is not; the key that
      // works is one turn more, and the command's channel is opened after the login (one more again).
      const strangerHome = await homeWithRefusedKeyFirst('relay-home')
      const refusedFirst = await turns(
        connector({port: relay.address.port, knownHostsFiles: [kh], keyFile: undefined, home: strangerHome, sshConfigFile: undefined}),
      )
      expect(refusedFirst).toBe(direct + 2)
      // One session per command either way: the channel opened ahead and not taken runs nothing.
      expect(sessions() - before).toBe(2)

      // A second command on the connection (a node read's second round) runs on a channel opened while
      // the first ran: one turn more (its exec), not two (an open, then the exec).
      const at = relay.connections.length
      const session = await connector({port: relay.address.port, knownHostsFiles: [kh]}).connect(target)
      try {
        await expectRulesOf('node1', (await session.run(nodeCommands.iptablesSave())).stdout)
        expect((await session.run(nodeCommands.iptablesVersion())).stdout).toMatch(/^iptables v1\.\d/)
      } finally {
        await session.close()
      }
      expect(await relay.idle(5_000)).toBe(true)
      expect(relay.connections.slice(at).map((c) => c.turns)).toEqual([direct + 1])
      expect(sessions() - before).toBe(4)
    })
  })

  it("sends a node read's first batch behind the channel opened with the login when it is known by then: a round trip fewer, run once", async () => {
    await throughSlowLink('relay-first', async (relay, kh) => {
      const target = {name: 'node1', address: '127.0.0.1'}
      const sessions = () => sshd.node1.log.split('\n').filter((l) => l.startsWith('Starting session: ')).length
      const steps: BatchStep[] = [
        {id: 'save', cmd: nodeCommands.iptablesSave()},
        {id: 'version', cmd: nodeCommands.iptablesVersion()},
      ]
      // The batch (its steps handed over before the connection is ready, or not), then one more command.
      const read = async (c: SshConnector, first: boolean): Promise<{turns: number; sessions: number}> => {
        const at = relay.connections.length
        const before = sessions()
        const s = await c.connect(target, first ? {steps} : undefined)
        try {
          const out = await s.runBatch!(steps)
          const save = out.get('save')
          expect(save).not.toBeInstanceOf(Error)
          await expectRulesOf('node1', (save as CommandResult).stdout)
          expect((await s.run(nodeCommands.iptablesVersion())).stdout).toMatch(/^iptables v1\.\d/)
        } finally {
          await s.close()
        }
        expect(await relay.idle(5_000)).toBe(true)
        const conns = relay.connections.slice(at)
        expect(conns).toHaveLength(1)
        return {turns: conns[0]!.turns, sessions: sessions() - before}
      }
      const c = () => connector({port: relay.address.port, knownHostsFiles: [kh]})
      const unprimed = await read(c(), false)
      // KEXINIT, ECDH, the login flight (now with the batch's exec behind the channel open, and the
      // open of the next command's channel), the next command's exec, the close.
      expect(unprimed).toEqual({turns: 6, sessions: 2})
      expect(await read(c(), true)).toEqual({turns: 5, sessions: 2})

      // A refused key first: sshd takes neither the open nor the exec behind it; the batch then runs on
      // a channel of its own, once, as without the early exec.
      const strangerHome = await homeWithRefusedKeyFirst('relay-home-first')
      const refused = () => connector({port: relay.address.port, knownHostsFiles: [kh], keyFile: undefined, home: strangerHome, sshConfigFile: undefined})
      const refusedUnprimed = await read(refused(), false)
      expect(refusedUnprimed.sessions).toBe(2)
      expect(await read(refused(), true)).toEqual(refusedUnprimed)
    })
  })

  it('logs in with the agent, and says what it tried when no key works', async () => {
    const agent = await startAgent(work!.dir, [key.privateKeyPath])
    try {
      const emptyHome = path.join(work!.dir, 'empty-home')
      mkdirSync(emptyHome, {recursive: true})
      const viaAgent = connector({keyFile: undefined, agent: agent.socket, home: emptyHome, sshConfigFile: undefined})
      await expectRulesOf('node1', (await traceAll(viaAgent, targets().slice(0, 1))).node1?.stdout)
    } finally {
      await agent.stop()
    }
    const strangerHome = path.join(work!.dir, 'stranger-home')
    mkdirSync(path.join(strangerHome, '.ssh'), {recursive: true})
    await generateClientKey(path.join(strangerHome, '.ssh'), 'id_ed25519')
    const err = (await traceAll(connector({keyFile: undefined, home: strangerHome}), targets().slice(0, 1))).node1?.error
    expect(err?.kind).toBe('auth')
    expect(err?.message).toBe(`ssh as root@${ip.node1}: authentication failed (tried: ~/.ssh/id_ed25519); pass --ssh-key or --ssh-user`)
  })

  it('runs only allow-listed lines: the sshd-side record equals the audit log; hostile input never gets there', async () => {
    const HOSTILE = ['KUBE-SVC-X;rm -rf /', '1.2.3.4$(reboot)', 'KUBE-SVC-`my-service`', '$(reboot)', ';', '`']
    expect(() => nodeCommands.iptablesListChain('nat', 'KUBE-SVC-X;rm -rf /')).toThrow(UnsafeArgumentError)
    expect(() => nodeCommands.iptablesSaveTable('nat;reboot')).toThrow(UnsafeArgumentError)
    expect(() => nodeCommands.iptablesListChain('nat', 'KUBE-SVC-`my-service`')).toThrow(UnsafeArgumentError)
    const forged: NodeCommand[] = [
      {id: 'iptables-list-chain', argv: ['iptables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SVC-`my-service`']},
      {id: 'iptables-save-table', argv: ['iptables-save', '-t', 'nat$(reboot)']},
      {id: 'iptables-save', argv: ['iptables-save;rm', '-rf', '/']},
    ]
    const before = Object.fromEntries(NODES.map((n) => [n.name, sshd[n.name].commands().length]))
    audit.length = 0
    const every = [
      nodeCommands.iptablesSave(),
      nodeCommands.iptablesSaveTable('nat'),
      nodeCommands.iptablesListChain('nat', 'KUBE-SERVICES'),
      nodeCommands.iptablesVersion(),
      nodeCommands.iptablesLegacySave(),
      nodeCommands.iptablesNftSave(),
      nodeCommands.nftListKubeProxy(),
      nodeCommands.ipvsadmSave(),
      nodeCommands.ipsetSave(),
      nodeCommands.procIpVs(),
    ]
    const kinds: Record<string, string> = {}
    for (const t of targets()) {
      const s = await connector().connect(t)
      try {
        for (const cmd of forged) await expect(s.run(cmd)).rejects.toBeInstanceOf(UnsafeArgumentError)
        for (const cmd of every)
          kinds[`${t.name} ${cmd.id}`] = await s.run(cmd).then(
            () => 'ok',
            (e: NodeAccessError) => e.kind,
          )
        // The KUBE-SERVICES chain of the loaded rules, read with -S.
        expect((await s.run(nodeCommands.iptablesListChain('nat', 'KUBE-SERVICES'))).stdout).toContain('-N KUBE-SERVICES')
      } finally {
        await s.close()
      }
    }
    expect(kinds['node1 iptables-save']).toBe('ok')
    expect(kinds['node2 iptables-list-chain']).toBe('ok')
    // Not installed in the test image: a command error for that node, not a crash.
    expect(kinds['node1 ipvsadm-save']).toBe('command')
    const sent = NODES.flatMap((n) =>
      sshd[n.name]
        .commands()
        .slice(before[n.name])
        .map((l) => ({node: n.name as string, line: l})),
    )
    expect(sent.length).toBe(NODES.length * (every.length + 1))
    expect([...audit].sort(byNodeLine)).toEqual([...sent].sort(byNodeLine))
    for (const {line: l} of sent) {
      const inner = /^env LC_ALL=C (.*)$/.exec(l)?.[1] ?? ''
      expect(
        (Object.keys(ALLOWED) as NodeCommandId[]).some((id) => ALLOWED[id].test(inner)),
        l,
      ).toBe(true)
      for (const h of HOSTILE) expect(l).not.toContain(h)
    }
  })
})

function byNodeLine(a: {node: string; line: string}, b: {node: string; line: string}): number {
  return `${a.node} ${a.line}`.localeCompare(`${b.node} ${b.line}`)
}
