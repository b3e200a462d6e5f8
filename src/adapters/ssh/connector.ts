// NodeConnector over SSH (ssh2): one connection per node, optionally through a bastion, with the host
// key of every hop checked against known_hosts before anything is sent. Nothing here spawns a process
// or runs a local shell; the remote command lines come from shellLine() only.
import {homedir, userInfo} from 'node:os'
import ssh2 from 'ssh2'
import type {Client, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm} from 'ssh2'
import {hostKeyAlgorithmsFor, lookupHostKey, readKnownHostsFiles, recordedKeyTypes, type KnownHostsFile} from './known-hosts.js'
import {MAX_COMMAND_OUTPUT_BYTES} from '../node/commands.js'
import {NodeAccessError, type FirstBatch, type NodeConnector, type NodeSession, type NodeTarget} from '../node/connector.js'
import {authHandler, KeyStore, type PassphrasePrompt} from './auth.js'
import {quickLogin} from './quick-login.js'
import {openChannelAhead, type ChannelAhead, type FirstExec} from './channel-ahead.js'
import {BastionPool, bastionName, forwardThrough} from './bastion.js'
import {Deadline} from './deadline.js'
import {connectError, hostKeyError, type Hop} from './errors.js'
import {PrimedBatch, SshSession} from './session.js'
import {applyHostTemplate, isHostName, lookupSshConfig, parseBastion, readSshConfig, type BastionSpec, type SshConfigEntry} from './settings.js'

export type {BastionSpec} from './settings.js'

/** How to reach nodes over SSH. Unset values come from the ssh config, then OpenSSH's defaults. */
export interface SshOptions {
  /** Login user (--ssh-user); default: the config's User, else the local user. */
  user?: string | undefined
  /** --ssh-port; default: the config's Port, else 22. */
  port?: number | undefined
  /** --ssh-key: used instead of the config's IdentityFile and the default ~/.ssh/id_* files. */
  keyFile?: string | undefined
  /** Asks for an encrypted key's passphrase; leave unset when there is no TTY. */
  passphrase?: PassphrasePrompt | undefined
  /** The agent's socket (SSH_AUTH_SOCK); tried before key files. */
  agent?: string | undefined
  /** An ssh config file to read (~/.ssh/config for the CLI); unset: none. */
  sshConfigFile?: string | undefined
  /** known_hosts files, the first one named in "add this line to …" messages. */
  knownHostsFiles: string[]
  /** Accept any host key (--insecure-ignore-host-keys). */
  insecureIgnoreHostKeys?: boolean | undefined
  /** Jump host (--bastion); unset: the config's ProxyJump, if any. */
  bastion?: BastionSpec | undefined
  /** Run commands with `sudo -n`. */
  sudo?: boolean | undefined
  /** TCP connect + handshake + authentication, per hop; default 10 s. */
  connectTimeoutMs?: number | undefined
  /** Per command; default 60 s. */
  commandTimeoutMs?: number | undefined
  /** --ssh-host-template with {name} and {address}; unset: the target's address. */
  hostTemplate?: string | undefined
  /** Called with every command line just before it is sent. */
  audit?: ((node: string, line: string) => void) | undefined
  /** Output cap per command; default MAX_COMMAND_OUTPUT_BYTES (tests lower it). */
  maxOutputBytes?: number | undefined
  /** For `~` and the default key files; default os.homedir(). */
  home?: string | undefined
}

const DEFAULT_KEY_NAMES = ['id_ed25519', 'id_ecdsa', 'id_rsa']
const KEEPALIVE_MS = 15_000

/** A hop fully resolved: where to dial, as whom, with what. */
interface Route extends Hop {
  keyFiles: string[]
  namedKeyFiles: boolean
  agent?: string
  /** The config's ProxyJump for the name as given (before HostName), as OpenSSH reads it. */
  proxyJump?: string
}

export class SshConnector implements NodeConnector {
  readonly description: string
  private readonly home: string
  private readonly localUser: string
  private readonly keys: KeyStore
  private readonly config: ReturnType<typeof readSshConfig> | undefined
  private knownHosts?: KnownHostsFile[]
  private readonly bastions = new BastionPool()

  constructor(private readonly opts: SshOptions) {
    this.home = opts.home ?? homedir()
    this.localUser = safeLocalUser()
    this.keys = new KeyStore(opts.passphrase)
    this.config = opts.sshConfigFile ? readSshConfig(opts.sshConfigFile, this.home) : undefined
    const via = opts.bastion ? ` via ${bastionName(opts.bastion, opts.bastion.user ?? this.localUser)}` : ''
    this.description = `ssh${opts.user ? ` as ${opts.user}` : ''}${via}`
  }

  async connect(target: NodeTarget, first?: FirstBatch): Promise<NodeSession> {
    const route = this.route(target.name, this.hostFor(target), {user: this.opts.user, port: this.opts.port})
    const bastion = this.bastionFor(route)
    let jump: Client | undefined
    if (bastion) {
      const jumpRoute = this.route(`bastion ${bastion.host}`, bastion.host, {user: bastion.user, port: bastion.port})
      route.via = bastionName(jumpRoute, jumpRoute.user)
      jump = await this.bastions.acquire(route.via, async () => (await this.handshake(jumpRoute)).client)
    }
    const via = route.via
    const release = () => via !== undefined && this.bastions.release(via)
    try {
      const sock = jump ? await forwardThrough(jump, route, this.connectTimeoutMs) : undefined
      const settings = {
        node: target.name,
        sudo: this.opts.sudo ?? false,
        commandTimeoutMs: this.opts.commandTimeoutMs ?? 60_000,
        maxOutputBytes: this.opts.maxOutputBytes ?? MAX_COMMAND_OUTPUT_BYTES,
        ...(this.opts.audit !== undefined ? {audit: this.opts.audit} : {}),
      }
      const primed = first ? new PrimedBatch(first, settings) : undefined
      const {client, ahead} = await this.handshake(route, sock, primed ?? true)
      return new SshSession(client, {
        ...(ahead ? {ahead} : {}),
        ...(primed ? {first: primed} : {}),
        openWaitMs: this.connectTimeoutMs,
        ...settings,
        onClose: release,
      })
    } catch (err) {
      release()
      throw err
    }
  }

  private get connectTimeoutMs(): number {
    return this.opts.connectTimeoutMs ?? 10_000
  }

  private hostFor(target: NodeTarget): string {
    const host = this.opts.hostTemplate ? applyHostTemplate(this.opts.hostTemplate, target) : target.address
    if (!isHostName(host)) {
      const from = this.opts.hostTemplate ? ` (from --ssh-host-template ${this.opts.hostTemplate})` : ''
      throw new NodeAccessError(`cannot connect to ${target.name}: "${host}"${from} is not an IP address or host name`, 'unreachable')
    }
    return host
  }

  /** Flags win over the ssh config, which wins over the defaults. */
  private route(label: string, host: string, given: {user?: string | undefined; port?: number | undefined}): Route {
    const cfg: SshConfigEntry = this.config
      ? lookupSshConfig(this.config, host, {home: this.home, localUser: this.localUser, ...(given.user !== undefined ? {remoteUser: given.user} : {})})
      : {identityFiles: []}
    const user = given.user ?? cfg.user ?? this.localUser
    const named = this.opts.keyFile ? [this.opts.keyFile] : cfg.identityFiles
    const keyFiles = named.length > 0 ? named : DEFAULT_KEY_NAMES.map((n) => `${this.home}/.ssh/${n}`)
    const agent = cfg.identityAgent === 'none' ? undefined : (cfg.identityAgent ?? this.opts.agent)
    return {
      label,
      host: cfg.hostName ?? host,
      port: given.port ?? cfg.port ?? 22,
      user,
      keyFiles,
      namedKeyFiles: named.length > 0,
      ...(agent !== undefined ? {agent} : {}),
      ...(cfg.proxyJump !== undefined ? {proxyJump: cfg.proxyJump} : {}),
    }
  }

  private bastionFor(route: Route): BastionSpec | undefined {
    if (this.opts.bastion) return this.opts.bastion
    const jump = route.proxyJump
    if (!jump || jump.toLowerCase() === 'none') return undefined
    if (jump.includes(',')) throw new NodeAccessError(`ProxyJump ${jump} for ${route.label}: only one jump host is supported; pass --bastion`, 'unreachable')
    try {
      return parseBastion(jump.replace(/^ssh:\/\//, ''))
    } catch (err) {
      throw new NodeAccessError(`ProxyJump for ${route.label}: ${(err as Error).message}`, 'unreachable')
    }
  }

  private knownHostsFiles(): KnownHostsFile[] {
    this.knownHosts ??= readKnownHostsFiles(this.opts.knownHostsFiles)
    return this.knownHosts
  }

  /**
   * SSH handshake, host key check and authentication for one hop, over TCP or a bastion's channel.
   * `forCommands`: a node's connection, whose first command's channel is opened ahead (channel-ahead.ts),
   * with that command's exec behind it when it is known then (a FirstExec).
   */
  private handshake(route: Route, sock?: ClientChannel, forCommands: boolean | FirstExec = false): Promise<{client: Client; ahead?: ChannelAhead}> {
    const client = new ssh2.Client()
    const tried: string[] = []
    const insecure = this.opts.insecureIgnoreHostKeys ?? false
    const types = insecure ? [] : recordedKeyTypes(this.knownHostsFiles(), route.host, route.port)
    let refused: NodeAccessError | undefined

    let ahead: ChannelAhead | undefined
    return new Promise((resolve, reject) => {
      let settled = false
      const fail = (err: NodeAccessError) => {
        if (settled) return
        settled = true
        deadline.cancel()
        client.destroy()
        reject(err)
      }
      const deadline = new Deadline(this.connectTimeoutMs, () =>
        fail(connectError(Object.assign(new Error('timed out'), {level: 'client-timeout'}), route, {tried, timeoutMs: this.connectTimeoutMs})),
      )
      if (types.length > 0 && hostKeyAlgorithmsFor(types).length === 0) {
        fail(
          new NodeAccessError(`known_hosts records only ${types.join(', ')} keys for ${route.label}; svctrace cannot check those: nothing was run`, 'host-key'),
        )
        return
      }
      client.on('ready', () => {
        if (settled) return
        settled = true
        deadline.cancel()
        resolve(ahead ? {client, ahead} : {client})
      })
      client.on('error', (err: Error & {level?: string}) => {
        // An unusable agent is not fatal: ssh2 goes on with the next key.
        if (err.level === 'agent') {
          const i = tried.lastIndexOf('agent')
          if (i >= 0) tried[i] = `agent (${err.message})`
          return
        }
        fail(refused ?? connectError(err, route, {tried, hostKeyTypes: types, timeoutMs: this.connectTimeoutMs}))
      })
      client.on('close', () => fail(refused ?? connectError(new Error('connection closed'), route, {tried, timeoutMs: this.connectTimeoutMs})))

      const config: ConnectConfig = {
        host: route.host,
        port: route.port,
        username: route.user,
        readyTimeout: 0, // the Deadline above, which pauses for passphrase prompts
        keepaliveInterval: KEEPALIVE_MS,
        keepaliveCountMax: 3,
        ...(sock ? {sock} : {}),
        ...(types.length > 0 ? {algorithms: {serverHostKey: hostKeyAlgorithmsFor(types) as ServerHostKeyAlgorithm[]}} : {}),
        // Without a hostVerifier ssh2 accepts any key. Looked up by the hop's real host and port, also
        // when the connection is tunnelled through a bastion.
        hostVerifier: (key: Buffer): boolean => {
          if (insecure) return true
          const lookup = lookupHostKey(this.knownHostsFiles(), route.host, route.port, key)
          if (lookup.status === 'ok') return true
          refused = hostKeyError(route, lookup, key, {knownHostsFile: this.opts.knownHostsFiles[0] ?? `${this.home}/.ssh/known_hosts`, home: this.home})
          return false
        },
        authHandler: authHandler(route, this.keys, tried, this.home, (work) => deadline.whilePaused(work)),
      }
      try {
        client.connect(config)
        // Before quickLogin: its signed requests go through the channel-ahead hook.
        if (forCommands) ahead = openChannelAhead(client, this.connectTimeoutMs, forCommands === true ? undefined : forCommands)
        quickLogin(client)
        // Each SSH request waits for its answer: Nagle plus delayed ACKs would add ~40-90 ms to each.
        client.setNoDelay(true)
      } catch (err) {
        fail(connectError(err as Error, route, {tried, timeoutMs: this.connectTimeoutMs}))
      }
    })
  }
}

function safeLocalUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? 'root'
  }
}
