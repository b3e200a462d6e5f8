// Real OpenSSH servers for integration tests: one `sshd -D -e` per node namespace (test/support/netns.ts),
// on the node's own address, with its own generated host key and a test user's key in a temporary
// authorized_keys file. sshd runs as root (StrictModes no, PermitRootLogin prohibit-password), so the
// commands run in the node's namespace and `iptables-save` prints that node's rules.
//
// Every command line a client asks for is recorded on the server side: ForceCommand runs a small
// recorder that appends $SSH_ORIGINAL_COMMAND to a log, then runs it with `sh -c` as sshd would have
// run it with the user's shell. Also here: client key pairs and hashed known_hosts from ssh-keygen, and an ssh-agent.
//
// Everything lives in one temporary directory per server; stop() ends the listener (restartable),
// destroy() also removes the directory, and an exit hook kills what is left. Bounded timeouts throughout.
import {spawn, type ChildProcess} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {defined} from './defined.js'
import {run, which, type Topology} from './netns.js'

const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 3_000
/** sshd's privilege-separation directory (compiled in); a container without the ssh service lacks it. */
const PRIVSEP_DIR = '/run/sshd'

const live = new Set<{child?: ChildProcess; dir: string}>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const s of live) {
      if (s.child?.pid && s.child.exitCode === null && s.child.signalCode === null) {
        try {
          process.kill(s.child.pid, 'SIGKILL')
        } catch {
          // gone
        }
      }
      rmSync(s.dir, {recursive: true, force: true})
    }
  })
}

/** A temporary directory removed by the exit hook if nobody removes it sooner. */
export function tempDir(label: string): {dir: string; remove(): void} {
  installExitHook()
  const entry = {dir: mkdtempSync(path.join(tmpdir(), `svctrace-${label}-${process.pid}-`))}
  live.add(entry)
  return {
    dir: entry.dir,
    remove: () => {
      rmSync(entry.dir, {recursive: true, force: true})
      live.delete(entry)
    },
  }
}

/** A key pair made by ssh-keygen: the private key file and the public key line (`type base64`). */
export interface ClientKey {
  privateKeyPath: string
  publicKey: string
}

export async function generateClientKey(dir: string, name: string, type: 'ed25519' | 'rsa' = 'ed25519'): Promise<ClientKey> {
  const privateKeyPath = path.join(dir, name)
  rmSync(privateKeyPath, {force: true})
  rmSync(`${privateKeyPath}.pub`, {force: true})
  await run(['ssh-keygen', '-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', `svctrace-${name}`, '-f', privateKeyPath])
  return {privateKeyPath, publicKey: readFileSync(`${privateKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}
}

/** `ssh-keygen -l` of a public key line: the fingerprint as OpenSSH prints it. */
export async function sshKeygenFingerprint(dir: string, publicKey: string): Promise<string> {
  const f = path.join(dir, `fp-${Date.now()}-${Math.random().toString(16).slice(2)}.pub`)
  writeFileSync(f, `${publicKey}\n`)
  try {
    const {stdout} = await run(['ssh-keygen', '-l', '-f', f])
    const fp = stdout.split(/\s+/)[1]
    if (!fp?.startsWith('SHA256:')) throw new Error(`ssh-keygen -l printed ${stdout}`)
    return fp
  } finally {
    rmSync(f, {force: true})
  }
}

/** Writes a known_hosts file and hashes it in place with `ssh-keygen -H` (as HashKnownHosts does). */
export async function writeHashedKnownHosts(file: string, lines: string[]): Promise<void> {
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''))
  await run(['ssh-keygen', '-q', '-H', '-f', file])
  rmSync(`${file}.old`, {force: true})
}

export interface SshdOptions {
  /** The topology member (namespace) to run in. */
  member: string
  /** Address to listen on, one of the member's own. */
  address: string
  port?: number
  /** Public key lines allowed to log in as root. */
  authorizedKeys: string[]
  /** More environment for the sessions (sshd's SetEnv, which overrides sshd's own PATH): e.g. a PATH whose first directory maps iptables to iptables-legacy. */
  env?: Record<string, string>
  /** Users other than root log in too: the key file, the command recorder and its log are readable and writable by them. */
  anyUser?: boolean
}

/** One real sshd in a namespace. */
export class Sshd {
  readonly address: string
  readonly port: number
  private child?: ChildProcess
  private stderr = ''
  private readonly entry: {child?: ChildProcess; dir: string}

  private constructor(
    private readonly topo: Topology,
    private readonly opts: SshdOptions,
    private readonly dir: string,
  ) {
    this.address = opts.address
    this.port = opts.port ?? 22
    this.entry = {dir}
  }

  static async start(topo: Topology, opts: SshdOptions): Promise<Sshd> {
    installExitHook()
    const {dir} = tempDir(`sshd-${opts.member}`)
    const sshd = new Sshd(topo, opts, dir)
    live.add(sshd.entry)
    try {
      sshd.writeConfig()
      await sshd.regenerateHostKey()
      return sshd
    } catch (err) {
      await sshd.destroy()
      throw err
    }
  }

  /** The host key as a public key line (`ssh-ed25519 AAAA…`). */
  get hostPublicKey(): string {
    return readFileSync(this.file('ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
  }

  get hostKeyBlob(): Buffer {
    return Buffer.from(defined(this.hostPublicKey.split(' ')[1], 'the host key blob'), 'base64')
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** The listening sshd's process id (its sessions are its descendants), while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined
  }

  /** What sshd logged (LogLevel VERBOSE): connections, accepted keys. */
  get log(): string {
    return this.stderr
  }

  /** Every command line clients asked this server to run, in order. */
  commands(): string[] {
    const f = this.file('commands.log')
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []
  }

  /** A new host key (as after a reinstall); restarts sshd when it was running. */
  async regenerateHostKey(): Promise<void> {
    const wasRunning = this.running || this.child === undefined
    await this.stop()
    const key = this.file('ssh_host_ed25519_key')
    rmSync(key, {force: true})
    rmSync(`${key}.pub`, {force: true})
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${this.opts.member}-host`, '-f', key])
    if (wasRunning) await this.startProcess()
  }

  /** Starts sshd again after stop(). */
  async start(): Promise<void> {
    if (!this.running) await this.startProcess()
  }

  /** Stops the listener (TERM, then KILL after 3 s); the address then refuses connections. */
  async stop(): Promise<void> {
    if (this.child) await terminate(this.child)
  }

  async destroy(): Promise<void> {
    await this.stop()
    rmSync(this.dir, {recursive: true, force: true})
    live.delete(this.entry)
  }

  private file(name: string): string {
    return path.join(this.dir, name)
  }

  private writeConfig(): void {
    const recorder = this.file('record-command')
    writeFileSync(
      recorder,
      ['#!/bin/sh', `printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '${this.file('commands.log')}'`, 'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"', ''].join('\n'),
    )
    chmodSync(recorder, 0o755)
    mkdirSync(this.file('home'))
    writeFileSync(this.file('authorized_keys'), this.opts.authorizedKeys.map((k) => `${k}\n`).join(''), {mode: 0o600})
    if (this.opts.anyUser) {
      // sshd reads the key file as the user logging in; the recorder appends to its log as that user.
      chmodSync(this.dir, 0o755)
      chmodSync(this.file('authorized_keys'), 0o644)
      writeFileSync(this.file('commands.log'), '')
      chmodSync(this.file('commands.log'), 0o666)
    }
    writeFileSync(
      this.file('sshd_config'),
      [
        `ListenAddress ${this.address}:${this.port}`,
        `HostKey ${this.file('ssh_host_ed25519_key')}`,
        `PidFile ${this.file('sshd.pid')}`,
        `AuthorizedKeysFile ${this.file('authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        'AllowTcpForwarding yes',
        'MaxStartups 100',
        `ForceCommand ${recorder}`,
        // Debian's bash reads ~/.bashrc for every command sshd runs; the test host's root .bashrc can take
        // ~250 ms (pyenv init). An empty HOME keeps each exec at the cost of sshd itself.
        // sshd keeps only the first SetEnv line: every variable goes on it.
        `SetEnv ${setEnvWords({HOME: this.file('home'), ...this.opts.env})}`,
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    )
  }

  private async startProcess(): Promise<void> {
    if (!existsSync(PRIVSEP_DIR)) mkdirSync(PRIVSEP_DIR, {mode: 0o755, recursive: true})
    const sshd = which('sshd')
    if (!sshd) throw new Error('sshd not found')
    // sshd re-executes itself for each connection, so it must be started by its absolute path.
    const child = spawn(which('ip') ?? 'ip', ['netns', 'exec', this.topo.netns(this.opts.member), sshd, '-D', '-e', '-f', this.file('sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    this.child = child
    this.entry.child = child
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (d: string) => {
      this.stderr += d
    })
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer)
        child.stderr?.off('data', ready)
        child.off('exit', exited)
        if (err) reject(err)
        else resolve()
      }
      const ready = () => {
        if (this.stderr.includes(`Server listening on ${this.address} port ${this.port}`)) done()
      }
      const exited = (code: number | null, signal: string | null) => done(new Error(`sshd on ${this.opts.member} exited (${code ?? signal}): ${this.stderr}`))
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        done(new Error(`sshd on ${this.opts.member} not listening after ${START_TIMEOUT_MS} ms: ${this.stderr}`))
      }, START_TIMEOUT_MS)
      child.stderr?.on('data', ready)
      child.once('exit', exited)
      child.once('error', (e) => done(e))
    })
  }
}

/** `K=V K2=V2` for sshd_config's SetEnv; a value sshd would split or unquote is refused. */
function setEnvWords(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\s"'\\]/.test(v)) throw new Error(`SetEnv ${k}: name or value sshd_config cannot hold unquoted`)
      return `${k}=${v}`
    })
    .join(' ')
}

/** TERM, then KILL after STOP_TIMEOUT_MS; resolves when the process has exited. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    child.once('exit', () => {
      clearTimeout(hard)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** An ssh-agent on a socket in `dir`, holding the given private keys. */
export async function startAgent(dir: string, keyFiles: string[]): Promise<{socket: string; stop(): Promise<void>}> {
  installExitHook()
  const socket = path.join(dir, 'agent.sock')
  const child = spawn(which('ssh-agent') ?? 'ssh-agent', ['-D', '-a', socket], {stdio: ['ignore', 'ignore', 'pipe']})
  const entry = {child, dir}
  live.add(entry)
  const stop = async () => {
    await terminate(child)
    live.delete(entry)
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop()
      throw new Error('ssh-agent did not create its socket')
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  for (const key of keyFiles) {
    await new Promise<void>((resolve, reject) => {
      const add = spawn(which('ssh-add') ?? 'ssh-add', ['-q', key], {
        env: {...process.env, SSH_AUTH_SOCK: socket},
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: START_TIMEOUT_MS,
      })
      let err = ''
      add.stderr?.on('data', (d: Buffer) => {
        err += String(d)
      })
      add.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh-add ${key}: ${err}`))))
      add.once('error', reject)
    })
  }
  return {socket, stop}
}
