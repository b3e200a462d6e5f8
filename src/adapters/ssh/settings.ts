// Where and as whom to connect to a node: the flags first, then ~/.ssh/config, then OpenSSH's defaults.
// The config is read with the ssh-config package, which never follows Include, never expands `~`
// and runs `Match exec` commands unless told not to: Include (outside Host/Match blocks) and `~` are
// handled here, and compute() always gets matchExec: false, so reading a config never runs anything.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import SSHConfig from 'ssh-config'

/** A jump host, as given to --bastion (`user@host:port`, user and port optional). */
export interface BastionSpec {
  user?: string
  host: string
  port?: number
}

/** What ~/.ssh/config says for one host, with tokens and `~` expanded. */
export interface SshConfigEntry {
  hostName?: string
  user?: string
  port?: number
  identityFiles: string[]
  /** A socket path, or 'none' to use no agent. */
  identityAgent?: string
  proxyJump?: string
}

/** Values the tokens in ssh_config(5) stand for. */
export interface ExpandContext {
  home: string
  localUser: string
  host?: string
  remoteUser?: string
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/
const IP_LITERAL = /^[0-9A-Fa-f:.]+$/
const MAX_INCLUDE_DEPTH = 16

/** True for an IP address or a DNS name: nothing a shell or an option parser could mistake for more. */
export function isHostName(host: string): boolean {
  return HOST_NAME.test(host) || (host.includes(':') && IP_LITERAL.test(host))
}

function validPort(text: string, what: string): number {
  const port = Number(text)
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) throw new Error(`${what}: "${text}" is not a port number`)
  return port
}

/** Parses `[user@]host[:port]` (an IPv6 host in brackets: `[fd00::1]:2222`). */
export function parseBastion(spec: string): BastionSpec {
  const at = spec.lastIndexOf('@')
  const user = at >= 0 ? spec.slice(0, at) : undefined
  const rest = at >= 0 ? spec.slice(at + 1) : spec
  const m = /^\[([^\]]+)\](?::(.*))?$/.exec(rest) ?? /^([^:]*)(?::(.*))?$/.exec(rest)
  const host = m?.[1] ?? ''
  if (user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(user)) {
    throw new Error(`--bastion ${spec}: "${user}" is not a user name`)
  }
  if (!isHostName(host)) throw new Error(`--bastion ${spec}: "${host}" is not a host name or IP address (expected user@host:port)`)
  return {...(user ? {user} : {}), host, ...(m?.[2] !== undefined ? {port: validPort(m[2], `--bastion ${spec}`)} : {})}
}

/** Fills `{name}` and `{address}` in --ssh-host-template (e.g. `{name}.nodes.example.com`). */
export function applyHostTemplate(template: string, target: {name: string; address: string}): string {
  return template.replace(/\{name\}/g, target.name).replace(/\{address\}/g, target.address)
}

/** Expands a leading `~` and the %d %u %h %r %% tokens of IdentityFile/IdentityAgent. */
export function expandPath(p: string, ctx: ExpandContext): string {
  const tokens: Record<string, string | undefined> = {d: ctx.home, u: ctx.localUser, h: ctx.host, r: ctx.remoteUser, '%': '%'}
  const expanded = p.replace(/%([duhr%])/g, (all, t: string) => tokens[t] ?? all)
  if (expanded === '~') return ctx.home
  return expanded.startsWith('~/') ? path.join(ctx.home, expanded.slice(2)) : expanded
}

/** A path for messages: the home directory shown as `~`. */
export function displayPath(p: string, home: string): string {
  return home && (p === home || p.startsWith(`${home}/`)) ? `~${p.slice(home.length)}` : p
}

function globFiles(pattern: string): string[] {
  const dir = path.dirname(pattern)
  const base = path.basename(pattern)
  if (!/[*?]/.test(base)) return [pattern]
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  )
  try {
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .map((f) => path.join(dir, f))
  } catch {
    return []
  }
}

/**
 * Inlines `Include` files the way OpenSSH reads them when the Include stands before any Host/Match
 * block (the common case). Relative paths are relative to ~/.ssh; `*` and `?` work in the file name.
 * An Include inside a block is inlined too, which is exact unless the included file opens blocks.
 */
function inlineIncludes(text: string, home: string, depth = 0): string {
  if (depth > MAX_INCLUDE_DEPTH) throw new Error('ssh config: Include nested too deeply')
  return text
    .split('\n')
    .map((line) => {
      const paths = /^\s*include\s*[= \t]\s*(.+?)\s*$/i.exec(line)?.[1]
      if (paths === undefined) return line
      return paths
        .split(/\s+/)
        .map((p) => expandPath(p.replace(/^"|"$/g, ''), {home, localUser: ''}))
        .map((p) => (path.isAbsolute(p) ? p : path.join(home, '.ssh', p)))
        .flatMap(globFiles)
        .map((f) => {
          try {
            return inlineIncludes(readFileSync(f, 'utf8'), home, depth + 1)
          } catch {
            return ''
          }
        })
        .join('\n')
    })
    .join('\n')
}

/** Reads and parses an ssh config file (Include inlined); a missing file is an empty config. */
export function readSshConfig(file: string, home: string): SSHConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return SSHConfig.parse('')
    throw new Error(`cannot read ssh config ${displayPath(file, home)}: ${(err as Error).message}`)
  }
  return SSHConfig.parse(inlineIncludes(text, home))
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** What the config says for `host`; Match exec blocks never run (and never match). */
export function lookupSshConfig(config: SSHConfig, host: string, ctx: ExpandContext): SshConfigEntry {
  const c = config.compute(host, {matchExec: false, ignoreCase: true})
  const hostName = first(c.hostname)?.replace(/%(h|%)/g, (_, t: string) => (t === 'h' ? host : '%'))
  const user = first(c.user)
  const port = first(c.port)
  const identityFiles = [c.identityfile ?? []].flat()
  const agent = first(c.identityagent)
  const proxyJump = first(c.proxyjump)
  // %r is the user that will log in: the flag's (ctx.remoteUser) when given, else the config's.
  const tokens = {...ctx, host: hostName ?? host, remoteUser: ctx.remoteUser ?? user ?? ctx.localUser}
  return {
    ...(hostName ? {hostName} : {}),
    ...(user ? {user} : {}),
    ...(port ? {port: validPort(port, `ssh config Port for ${host}`)} : {}),
    identityFiles: identityFiles.filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, tokens)),
    // "IdentityAgent SSH_AUTH_SOCK" means the default: the caller's agent option.
    ...(agent && agent !== 'SSH_AUTH_SOCK' ? {identityAgent: agent.toLowerCase() === 'none' ? 'none' : expandPath(agent, tokens)} : {}),
    ...(proxyJump ? {proxyJump} : {}),
  }
}

/**
 * The address to dial for a Node (from `status.addresses`): its first InternalIP, or its first
 * ExternalIP when asked; undefined when the Node has none of that type.
 */
export function nodeAddress(addresses: {type: string; address: string}[] | undefined, use: 'InternalIP' | 'ExternalIP' = 'InternalIP'): string | undefined {
  return addresses?.find((a) => a.type === use)?.address
}
