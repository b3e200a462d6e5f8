// Every way reaching a node over SSH can fail, as a NodeAccessError that says what happened and what to
// do next. ssh2 reports socket errors with an errno `code`, its own with a `level`
// ('client-timeout', 'client-authentication', 'handshake', …).
import type {NodeCommand} from '../node/commands.js'
import {NodeAccessError} from '../node/connector.js'
import {fingerprintSha256, knownHostsLine, keyTypeOf, type HostKeyLookup, type RecordedKey} from './known-hosts.js'
import {displayPath} from './settings.js'

/** One SSH hop, for messages: the node (or "bastion …") and the address dialled. */
export interface Hop {
  label: string
  host: string
  port: number
  user: string
  /** The bastion this hop is reached through, as `user@host:port`. */
  via?: string
}

type SshError = Error & {code?: string; level?: string}

function where(hop: Hop): string {
  return `${hop.label} (${hop.host}:${hop.port}${hop.via ? ` via bastion ${hop.via}` : ''})`
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

/** A connect-time failure: refused, unreachable, timed out, authentication, handshake. */
export function connectError(err: SshError, hop: Hop, ctx: {tried: string[]; hostKeyTypes?: string[]; timeoutMs: number}): NodeAccessError {
  const code = err.code ?? ''
  const text = err.message ?? String(err)
  // A bastion relays the target's failure as a channel-open failure ("Connection refused", "No route to host").
  if (code === 'ECONNREFUSED' || /channel open failure.*(refused|connect failed)/i.test(text)) {
    return new NodeAccessError(`cannot connect to ${where(hop)}: connection refused; is sshd running and port ${hop.port} open?`, 'unreachable')
  }
  if (code === 'EHOSTUNREACH' || /channel open failure.*no route/i.test(text)) {
    return new NodeAccessError(`cannot connect to ${where(hop)}: no route to host; is the node up, and is ${hop.host} its address?`, 'unreachable')
  }
  const openFailure = /channel open failure:?\s*(.*)$/i.exec(text)
  if (openFailure) {
    return new NodeAccessError(
      `cannot connect to ${where(hop)}: the bastion could not open a connection (${openFailure[1] || 'connect failed'}); ` +
        'is sshd running there, and does the bastion allow forwarding (AllowTcpForwarding)?',
      'unreachable',
    )
  }
  if (code === 'ENETUNREACH') {
    return new NodeAccessError(
      `cannot connect to ${where(hop)}: network unreachable from here; pass --bastion to go through a host that reaches it`,
      'unreachable',
    )
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || err.level === 'client-dns') {
    return new NodeAccessError(`cannot connect to ${hop.label}: cannot resolve host name ${hop.host}`, 'unreachable')
  }
  if (code === 'ETIMEDOUT' || err.level === 'client-timeout' || /timed out/i.test(text)) {
    return new NodeAccessError(
      `no SSH answer from ${where(hop)} within ${seconds(ctx.timeoutMs)}; is the node up and port ${hop.port} reachable from here?`,
      'timeout',
    )
  }
  // OpenSSH cuts off a client that offered more keys than MaxAuthTries (an agent full of keys).
  if (err.level === 'client-authentication' || /too many authentication failures/i.test(text)) {
    const tried = ctx.tried.length > 0 ? ctx.tried.join(', ') : 'nothing: no agent (SSH_AUTH_SOCK) and no key file'
    return new NodeAccessError(`ssh as ${hop.user}@${hop.host}: authentication failed (tried: ${tried}); pass --ssh-key or --ssh-user`, 'auth')
  }
  if (err.level === 'handshake' && /host key/i.test(text) && ctx.hostKeyTypes?.length) {
    return new NodeAccessError(
      `${where(hop)} offers none of the host key types known_hosts records for it (${ctx.hostKeyTypes.join(', ')}): ` +
        'its host key may have changed; nothing was run',
      'host-key',
    )
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /closed|reset/i.test(text)) {
    return new NodeAccessError(
      `${where(hop)} closed the connection during the SSH handshake; is sshd refusing this client (MaxStartups, AllowUsers, firewall)?`,
      'unreachable',
    )
  }
  return new NodeAccessError(`SSH to ${where(hop)} failed: ${text}`, 'unreachable')
}

function describeRecorded(k: RecordedKey, home: string): string {
  return `${k.fingerprint} (${k.keyType}, ${displayPath(k.file, home)}:${k.line})`
}

/** The host key was not accepted: unknown, changed or revoked. Nothing was sent to the node. */
export function hostKeyError(hop: Hop, lookup: HostKeyLookup, keyBlob: Buffer, ctx: {knownHostsFile: string; home: string}): NodeAccessError {
  const got = `${fingerprintSha256(keyBlob)} (${keyTypeOf(keyBlob)})`
  const line = knownHostsLine(hop.host, hop.port, keyBlob)
  if (lookup.status === 'revoked' && lookup.matched) {
    const at = `${displayPath(lookup.matched.file, ctx.home)}:${lookup.matched.line}`
    return new NodeAccessError(`host key ${got} of ${where(hop)} is marked @revoked in ${at}; nothing was run`, 'host-key')
  }
  if (lookup.status === 'mismatch') {
    const expected = lookup.recorded.map((k) => describeRecorded(k, ctx.home)).join(', ')
    return new NodeAccessError(
      `HOST KEY CHANGED for ${where(hop)} (expected ${expected}, got ${got}): possible man-in-the-middle; nothing was run. ` +
        `If the node was rebuilt, check the new key on it and replace the old line with: ${line}`,
      'host-key',
    )
  }
  const file = displayPath(ctx.knownHostsFile, ctx.home)
  return new NodeAccessError(
    `unknown host key for ${where(hop)}: ${got}; nothing was run. ` +
      `Check it on the node (ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeOf(keyBlob).replace(/^ssh-|-.*$/g, '')}_key.pub); ` +
      `to trust it, add this line to ${file}: ${line}, or pass --insecure-ignore-host-keys`,
    'host-key',
  )
}

function firstLines(text: string): string {
  const lines = text.trim().split('\n').slice(0, 3).join(' / ')
  return lines.length > 300 ? `${lines.slice(0, 300)}…` : lines
}

const SUDO_REFUSED = /^sudo: (a password is required|a terminal is required|.*is not in the sudoers|.*not allowed to execute|sorry, you must have a tty)/m

/** A command that ran and failed (non-zero exit or killed). */
export function commandError(node: string, cmd: NodeCommand, sudo: boolean, exitCode: number, stderr: string): NodeAccessError {
  const shown = cmd.argv.join(' ')
  // Killed by a signal (-1) is no exit status.
  const status = exitCode >= 0 ? exitCode : undefined
  const program = cmd.argv[0]
  const said = firstLines(stderr)
  if (sudo && SUDO_REFUSED.test(stderr)) {
    return new NodeAccessError(`--sudo needs passwordless sudo for ${program} on ${node} (${said})`, 'sudo', status)
  }
  // `env LC_ALL=C sudo -n …` alone: env says `env: ‘sudo’: No such file or directory` (quotes as its
  // locale has them); inside a compound script the shell says `sh: 1: sudo: not found`.
  if (sudo && exitCode === 127 && /sudo['\u2018\u2019]?: (command )?not found|sudo['\u2018\u2019]?: No such file/i.test(stderr)) {
    return new NodeAccessError(`--sudo: sudo is not installed on ${node}; log in as root instead (--ssh-user root)`, 'sudo', status)
  }
  if (exitCode === 127) {
    return new NodeAccessError(`${program} is not installed on ${node} (\`${shown}\` exited with 127: ${said || 'command not found'})`, 'command', status)
  }
  if (!sudo && /permission denied|must be root|operation not permitted/i.test(stderr)) {
    return new NodeAccessError(`\`${shown}\` on ${node} needs root (${said}); log in as root (--ssh-user root) or pass --sudo`, 'command', status)
  }
  const how = exitCode >= 0 ? `exited with ${exitCode}` : 'was killed'
  return new NodeAccessError(`\`${shown}\` on ${node} ${how}: ${said || 'no error output'}`, 'command', status)
}

export function commandTimeout(node: string, cmd: NodeCommand, timeoutMs: number): NodeAccessError {
  return new NodeAccessError(`\`${cmd.argv.join(' ')}\` on ${node} did not finish within ${seconds(timeoutMs)}; the node may be overloaded`, 'timeout')
}

/** `256 MiB`, or `1000 bytes` under a MiB. */
function sizeText(limit: number): string {
  return limit >= 1024 * 1024 ? `${Math.round(limit / (1024 * 1024))} MiB` : `${limit} bytes`
}

export function outputTooLarge(node: string, cmd: NodeCommand, limit: number): NodeAccessError {
  return new NodeAccessError(`\`${cmd.argv.join(' ')}\` on ${node} printed more than ${sizeText(limit)}; stopped reading and closed the channel`, 'too-large')
}

export function connectionLost(node: string, cmd: NodeCommand | undefined, why: string): NodeAccessError {
  return new NodeAccessError(`connection to ${node} lost${cmd ? ` while running \`${cmd.argv.join(' ')}\`` : ''}: ${why}`, 'unreachable')
}

/** A compound node read whose current part ran past --node-timeout. */
export function batchTimeout(node: string, timeoutMs: number): NodeAccessError {
  return new NodeAccessError(`a command reading ${node} did not finish within ${seconds(timeoutMs)}; the node may be overloaded`, 'timeout')
}

export function batchTooLarge(node: string, limit: number): NodeAccessError {
  return new NodeAccessError(`reading ${node} printed more than ${sizeText(limit)}; stopped reading and closed the channel`, 'too-large')
}
