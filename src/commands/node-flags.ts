// The flags that say how nodes are read (--via and its options), and their translation into a typed
// config. Every value is checked here, once, with a message that says what to give instead; nothing
// from these flags ever reaches a shell (SSH sends only allow-listed command lines).
import {existsSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {Flags} from '@oclif/core'
import type {BastionSpec} from '../adapters/ssh/settings.js'
import type {DebugPodUse} from '../adapters/kube/pod-exec-connector.js'

export const nodeFlags = {
  via: Flags.option({
    description:
      'how node rules are read: ssh, exec (into the kube-proxy pod, or a debug pod), none (API checks only). Default: ssh when an --ssh-* flag is given, exec with --debug-pod or --debug-pod-fallback, else none',
    options: ['ssh', 'exec', 'none'] as const,
    helpGroup: 'Node access',
  })(),
  'ssh-user': Flags.string({description: 'SSH login user (default: ~/.ssh/config, else your user)', helpValue: 'USER', helpGroup: 'SSH node access'}),
  'ssh-key': Flags.string({
    description: 'private key file (default: ssh-agent, ~/.ssh/config IdentityFile, ~/.ssh/id_*)',
    helpValue: 'FILE',
    helpGroup: 'SSH node access',
  }),
  'ssh-port': Flags.integer({description: 'SSH port (default: ~/.ssh/config, else 22)', helpValue: 'PORT', helpGroup: 'SSH node access'}),
  'ssh-config': Flags.string({
    description: 'ssh config file to read (default ~/.ssh/config; Match exec is never run)',
    helpValue: 'FILE',
    helpGroup: 'SSH node access',
  }),
  'known-hosts': Flags.string({
    description: 'known_hosts file(s), repeatable or comma-separated (default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)',
    helpValue: 'FILE',
    multiple: true,
    delimiter: ',',
    helpGroup: 'SSH node access',
  }),
  bastion: Flags.string({
    description: 'jump host to reach the nodes through (its host key is checked too)',
    helpValue: 'USER@HOST:PORT',
    helpGroup: 'SSH node access',
  }),
  sudo: Flags.boolean({description: 'run the node commands with sudo -n (needs passwordless sudo for them)', helpGroup: 'SSH node access'}),
  'insecure-ignore-host-keys': Flags.boolean({
    description: 'accept any SSH host key (no known_hosts check): only on networks you trust',
    helpGroup: 'SSH node access',
  }),
  'ssh-host-template': Flags.string({
    description: 'host to dial per node, with {name} and {address} (e.g. {name}.nodes.example.com)',
    helpValue: 'TEMPLATE',
    helpGroup: 'SSH node access',
  }),
  'ssh-address-type': Flags.option({
    description: 'which Node address to dial (default InternalIP, else ExternalIP)',
    options: ['InternalIP', 'ExternalIP'] as const,
    helpGroup: 'SSH node access',
  })(),
  'debug-pod': Flags.boolean({
    description: 'with --via exec: run the commands in a short-lived privileged hostNetwork pod per node (deleted on exit)',
    helpGroup: 'Exec node access',
  }),
  'debug-pod-fallback': Flags.boolean({
    description:
      'with --via exec: read in the kube-proxy pod, and only what its image lacks (conntrack for --conntrack, ipvsadm for --counters) in a short-lived privileged pod on that node, made only when needed and deleted on exit',
    helpGroup: 'Exec node access',
  }),
  'debug-image': Flags.string({
    description: 'image of the debug pods (needs iptables-save, nft, conntrack, ipvsadm, sh)',
    helpValue: 'IMAGE',
    helpGroup: 'Exec node access',
  }),
  counters: Flags.boolean({
    description:
      'read the rules with their traffic counters (iptables-save -c, iptables -S -v, ipvsadm --stats; nft lists counters the rules have) and show packets per backend',
    helpGroup: 'Node access',
  }),
  parallel: Flags.integer({description: 'nodes read at once (default 10)', helpValue: 'N', helpGroup: 'Node access'}),
  'node-timeout': Flags.integer({description: 'seconds each node command may take (default 60)', helpValue: 'SEC', helpGroup: 'Node access'}),
  'connect-timeout': Flags.integer({description: 'seconds to connect and log in to a node (default 10)', helpValue: 'SEC', helpGroup: 'Node access'}),
}

export interface NodeFlagValues {
  via?: 'ssh' | 'exec' | 'none' | undefined
  'ssh-user'?: string | undefined
  'ssh-key'?: string | undefined
  'ssh-port'?: number | undefined
  'ssh-config'?: string | undefined
  'known-hosts'?: string[] | undefined
  bastion?: string | undefined
  sudo?: boolean | undefined
  'insecure-ignore-host-keys'?: boolean | undefined
  'ssh-host-template'?: string | undefined
  'ssh-address-type'?: 'InternalIP' | 'ExternalIP' | undefined
  'debug-pod'?: boolean | undefined
  'debug-pod-fallback'?: boolean | undefined
  'debug-image'?: string | undefined
  parallel?: number | undefined
  'node-timeout'?: number | undefined
  'connect-timeout'?: number | undefined
  from?: string | undefined
}

/** How to reach nodes over SSH, with every value checked (SshOptions minus what the process supplies). */
export interface SshSettings {
  user?: string
  port?: number
  keyFile?: string
  sshConfigFile?: string
  knownHostsFiles: string[]
  bastion?: BastionSpec
  sudo: boolean
  insecureIgnoreHostKeys: boolean
  hostTemplate?: string
}

export interface ReadSettings {
  parallel: number
  commandTimeoutMs: number
  connectTimeoutMs: number
  addressType?: 'InternalIP' | 'ExternalIP'
}

export type NodeAccess =
  | {via: 'none'; /** true when no flag asked for it (the output then says how to read nodes) */ implicit: boolean}
  | {via: 'ssh'; ssh: SshSettings; read: ReadSettings}
  | {via: 'exec'; exec: {debugPod: DebugPodUse; debugImage?: string}; read: ReadSettings}

/** A flag value svctrace cannot use (exit 2, printed as `error: …`). */
export class NodeFlagError extends Error {}

const SSH_FLAGS = [
  'ssh-user',
  'ssh-key',
  'ssh-port',
  'ssh-config',
  'known-hosts',
  'bastion',
  'sudo',
  'insecure-ignore-host-keys',
  'ssh-host-template',
  'ssh-address-type',
] as const
const EXEC_FLAGS = ['debug-pod', 'debug-pod-fallback', 'debug-image'] as const
const READ_FLAGS = ['parallel', 'node-timeout', 'connect-timeout'] as const
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/
const TEMPLATE = /^(?:[A-Za-z0-9_.:-]|\{name\}|\{address\})+$/
// An image reference: [registry[:port]/]path[:tag][@sha256:digest].
const IMAGE = /^[a-z0-9]([a-z0-9._\-/:]*[a-z0-9_])?(@sha256:[a-f0-9]{64})?$/i

function given(flags: NodeFlagValues, names: readonly string[]): string[] {
  const f = flags as Record<string, unknown>
  return names.filter((n) => f[n] !== undefined && f[n] !== false && !(Array.isArray(f[n]) && (f[n] as unknown[]).length === 0))
}

function list(names: string[]): string {
  return names.map((n) => `--${n}`).join(', ')
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p
}

function existingFile(flag: string, p: string, home: string, example: string): string {
  const file = path.resolve(expandHome(p, home))
  let isFile: boolean
  try {
    isFile = statSync(file).isFile()
  } catch {
    throw new NodeFlagError(`--${flag} ${p}: no such file; ${example}`)
  }
  if (!isFile) throw new NodeFlagError(`--${flag} ${p}: not a file; ${example}`)
  return file
}

function positive(flag: string, value: number | undefined, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1 || value > max) throw new NodeFlagError(`--${flag} ${value}: give ${what} from 1 to ${max} (default ${fallback})`)
  return value
}

/** Which way nodes are read: --via, else what the other flags imply. */
function chooseVia(flags: NodeFlagValues): 'ssh' | 'exec' | 'none' {
  const ssh = given(flags, SSH_FLAGS)
  const exec = given(flags, EXEC_FLAGS)
  if (flags.from !== undefined) {
    if (flags.via === 'ssh' || flags.via === 'exec')
      throw new NodeFlagError(`--from reads a bundle, which already holds each node's rules: drop --via ${flags.via} (or drop --from to read the live cluster)`)
    const extra = [...ssh, ...exec, ...given(flags, READ_FLAGS)]
    if (extra.length > 0)
      throw new NodeFlagError(
        `${list(extra)} ${extra.length > 1 ? 'read' : 'reads'} the nodes of a live cluster; a bundle (--from) already holds them: drop ${extra.length > 1 ? 'them' : 'it'}`,
      )
    return flags.via ?? 'none'
  }
  if (flags.via === 'ssh' && exec.length > 0) throw new NodeFlagError(`${list(exec)} ${exec.length > 1 ? 'are' : 'is'} for --via exec, not --via ssh`)
  if ((flags.via === 'exec' || flags.via === 'none') && ssh.length > 0)
    throw new NodeFlagError(`${list(ssh)} ${ssh.length > 1 ? 'are' : 'is'} for --via ssh, not --via ${flags.via}`)
  if (flags.via === 'none' && exec.length > 0) throw new NodeFlagError(`${list(exec)} ${exec.length > 1 ? 'are' : 'is'} for --via exec, not --via none`)
  if (flags.via) return flags.via
  if (ssh.length > 0 && exec.length > 0)
    throw new NodeFlagError(`${list(ssh)} read nodes over SSH and ${list(exec)} through pods: say which with --via ssh or --via exec`)
  if (ssh.length > 0) return 'ssh'
  if (exec.length > 0) return 'exec'
  return 'none'
}

async function sshSettings(flags: NodeFlagValues, home: string): Promise<SshSettings> {
  // Loaded only for SSH: ssh/settings pulls in the ssh-config parser.
  const {isHostName, parseBastion} = await import('../adapters/ssh/settings.js')
  const user = flags['ssh-user']
  if (user !== undefined && !USER.test(user)) throw new NodeFlagError(`--ssh-user "${user}": not a user name (letters, digits, _ . @ -)`)
  const port = flags['ssh-port']
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    throw new NodeFlagError(`--ssh-port ${port}: not a port number; give 1 to 65535 (default 22)`)
  const keyFile =
    flags['ssh-key'] === undefined ? undefined : existingFile('ssh-key', flags['ssh-key'], home, 'give the private key file (e.g. --ssh-key ~/.ssh/id_ed25519)')
  const defaultConfig = path.join(home, '.ssh', 'config')
  const sshConfigFile =
    flags['ssh-config'] !== undefined
      ? existingFile('ssh-config', flags['ssh-config'], home, 'give an ssh config file, or leave the flag out to read ~/.ssh/config')
      : existsSync(defaultConfig)
        ? defaultConfig
        : undefined
  const knownHosts = flags['known-hosts']?.map((f) => f.trim()).filter(Boolean)
  const knownHostsFiles =
    knownHosts && knownHosts.length > 0
      ? knownHosts.map((f) => path.resolve(expandHome(f, home)))
      : [path.join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts']
  let bastion: BastionSpec | undefined
  if (flags.bastion !== undefined) {
    try {
      bastion = parseBastion(flags.bastion)
    } catch (err) {
      throw new NodeFlagError((err as Error).message)
    }
  }
  const template = flags['ssh-host-template']
  if (template !== undefined) {
    const sample = template.replace(/\{name\}/g, 'node-a').replace(/\{address\}/g, '10.0.0.1')
    if (!TEMPLATE.test(template) || !isHostName(sample)) {
      throw new NodeFlagError(`--ssh-host-template "${template}": must make a host name from {name} and {address} (e.g. {name}.nodes.example.com)`)
    }
  }
  return {
    ...(user !== undefined ? {user} : {}),
    ...(port !== undefined ? {port} : {}),
    ...(keyFile ? {keyFile} : {}),
    ...(sshConfigFile ? {sshConfigFile} : {}),
    knownHostsFiles,
    ...(bastion ? {bastion} : {}),
    sudo: flags.sudo === true,
    insecureIgnoreHostKeys: flags['insecure-ignore-host-keys'] === true,
    ...(template !== undefined ? {hostTemplate: template} : {}),
  }
}

/** The flags as a typed config; throws NodeFlagError with what to give instead. */
export async function resolveNodeAccess(flags: NodeFlagValues, home = homedir()): Promise<NodeAccess> {
  const via = chooseVia(flags)
  if (via === 'none') {
    const reading = flags.from === undefined ? given(flags, READ_FLAGS) : []
    if (reading.length > 0)
      throw new NodeFlagError(
        `${list(reading)} ${reading.length > 1 ? 'set' : 'sets'} how nodes are read, but no node is read: add --via ssh (with --ssh-user …) or --via exec`,
      )
    return {via, implicit: flags.via === undefined}
  }
  const read: ReadSettings = {
    parallel: positive('parallel', flags.parallel, 10, 1000, 'how many nodes to read at once'),
    commandTimeoutMs: positive('node-timeout', flags['node-timeout'], 60, 3600, 'seconds per node command') * 1000,
    connectTimeoutMs: positive('connect-timeout', flags['connect-timeout'], 10, 600, 'seconds to connect') * 1000,
    ...(flags['ssh-address-type'] ? {addressType: flags['ssh-address-type']} : {}),
  }
  if (via === 'ssh') return {via, ssh: await sshSettings(flags, home), read}
  const image = flags['debug-image']
  if (image !== undefined && !IMAGE.test(image))
    throw new NodeFlagError(`--debug-image "${image}": not an image reference (e.g. registry.k8s.io/kube-proxy:v1.30.0)`)
  if (flags['debug-pod'] && flags['debug-pod-fallback'])
    throw new NodeFlagError('--debug-pod reads everything from a debug pod, --debug-pod-fallback only what the kube-proxy image lacks: give one')
  const debugPod: DebugPodUse = flags['debug-pod'] ? 'always' : flags['debug-pod-fallback'] ? 'fallback' : 'never'
  if (image !== undefined && debugPod === 'never')
    throw new NodeFlagError(
      '--debug-image names the image of debug pods: add --debug-pod (every read in one) or --debug-pod-fallback (what the kube-proxy image lacks)',
    )
  return {via, exec: {debugPod, ...(image !== undefined ? {debugImage: image} : {})}, read}
}

/** The line shown when nodes were not read because no flag asked for it. */
export const NODES_NOT_READ =
  "Node rules were not read (no --via): only the API objects were checked. To trace each node's kube-proxy rules add " +
  '--via ssh --ssh-user USER [--ssh-key FILE] (see "Reading nodes" in the README), or --via exec to run the same read-only commands in the kube-proxy pods.'
