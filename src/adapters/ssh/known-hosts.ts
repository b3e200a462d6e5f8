// known_hosts the way OpenSSH reads it (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"). No maintained npm
// parser exists, so this is ours. One entry a line:
//
//   node-a,10.0.0.3 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI…            patterns, `*` `?` and `!` negation
//   [10.0.0.5]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ…            a port other than 22
//   |1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 AAAA…   hashed (ssh-keygen -H)
//   @revoked * ssh-rsa AAAAB3…                                          never accept this key
//
// ssh2 cannot check OpenSSH certificates, so @cert-authority lines are read but never vouch for a key.
import {createHash, createHmac, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'

/** The text of one known_hosts file and where it came from (for messages). */
export interface KnownHostsFile {
  path: string
  text: string
}

type HostField = {kind: 'hashed'; salt: Buffer; hash: Buffer} | {kind: 'patterns'; patterns: string[]}

/** One parsed known_hosts line. */
export interface KnownHostEntry {
  file: string
  line: number
  marker?: 'revoked' | 'cert-authority'
  hosts: HostField
  keyType: string
  key: Buffer
}

/** A key known_hosts records for a host: what it is and where it was read. */
export interface RecordedKey {
  keyType: string
  fingerprint: string
  file: string
  line: number
}

export type HostKeyStatus = 'ok' | 'mismatch' | 'unknown' | 'revoked'

/** What known_hosts says about the key a host presented. */
export interface HostKeyLookup {
  status: HostKeyStatus
  /** mismatch: the key types recorded for the host. */
  expected?: string[]
  /** Every key recorded for the host (no markers), for messages. */
  recorded: RecordedKey[]
  /** ok: the entry that matched; revoked: the @revoked entry. */
  matched?: RecordedKey
}

/** Reads the files that exist; a missing or unreadable file counts as empty, as in OpenSSH. */
export function readKnownHostsFiles(paths: string[]): KnownHostsFile[] {
  const files: KnownHostsFile[] = []
  for (const path of paths) {
    try {
      files.push({path, text: readFileSync(path, 'utf8')})
    } catch {
      // OpenSSH skips known_hosts files it cannot open
    }
  }
  return files
}

/** Parses one file; lines that are not entries (comments, blanks, garbage) are skipped like OpenSSH does. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  text.split('\n').forEach((raw, i) => {
    const words = raw.trim().split(/\s+/)
    const head = words[0] ?? ''
    if (head === '' || head.startsWith('#')) return
    let marker: KnownHostEntry['marker']
    if (head === '@revoked' || head === '@cert-authority') {
      marker = head === '@revoked' ? 'revoked' : 'cert-authority'
      words.shift()
    } else if (head.startsWith('@')) {
      return
    }
    const [hostText, keyType, keyText] = words
    if (!hostText || !keyType || !keyText) return
    const hosts = parseHostField(hostText)
    const key = Buffer.from(keyText, 'base64')
    if (!hosts || key.length === 0 || keyTypeOf(key) !== keyType) return
    entries.push({file, line: i + 1, ...(marker ? {marker} : {}), hosts, keyType, key})
  })
  return entries
}

function parseHostField(text: string): HostField | undefined {
  if (!text.startsWith('|')) return {kind: 'patterns', patterns: text.toLowerCase().split(',').filter(Boolean)}
  // |1|base64(salt)|base64(HMAC-SHA1(salt, host token))
  const [, saltText, hashText] = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(text) ?? []
  if (saltText === undefined || hashText === undefined) return undefined
  const salt = Buffer.from(saltText, 'base64')
  const hash = Buffer.from(hashText, 'base64')
  return salt.length === 20 && hash.length === 20 ? {kind: 'hashed', salt, hash} : undefined
}

/** The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
  const h = host.toLowerCase()
  return port === 22 ? h : `[${h}]:${port}`
}

/** OpenSSH wildcard match: `*` any run of characters, `?` exactly one. */
function wildcardMatch(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${re}$`).test(text)
}

function hostMatches(hosts: HostField, token: string): boolean {
  if (hosts.kind === 'hashed') {
    const mac = createHmac('sha1', hosts.salt).update(token).digest()
    return timingSafeEqual(mac, hosts.hash)
  }
  // A matching negated pattern rules the line out, whatever else matches.
  let matched = false
  for (const p of hosts.patterns) {
    if (p.startsWith('!')) {
      if (wildcardMatch(p.slice(1), token)) return false
    } else if (wildcardMatch(p, token)) {
      matched = true
    }
  }
  return matched
}

function recorded(e: KnownHostEntry): RecordedKey {
  return {keyType: e.keyType, fingerprint: fingerprintSha256(e.key), file: e.file, line: e.line}
}

function entriesFor(files: KnownHostsFile[], host: string, port: number): KnownHostEntry[] {
  const token = hostToken(host, port)
  return files.flatMap((f) => parseKnownHosts(f.text, f.path)).filter((e) => hostMatches(e.hosts, token))
}

/** Checks the key a host presented (its raw SSH wire blob) against known_hosts. */
export function lookupHostKey(files: KnownHostsFile[], host: string, port: number, keyBlob: Buffer): HostKeyLookup {
  const entries = entriesFor(files, host, port)
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(keyBlob))
  const plain = entries.filter((e) => e.marker === undefined)
  const all = plain.map(recorded)
  if (revoked) return {status: 'revoked', recorded: all, matched: recorded(revoked)}
  const same = plain.find((e) => e.key.equals(keyBlob))
  if (same) return {status: 'ok', recorded: all, matched: recorded(same)}
  if (plain.length > 0) return {status: 'mismatch', expected: [...new Set(plain.map((e) => e.keyType))], recorded: all}
  return {status: 'unknown', recorded: []}
}

/** The key types known_hosts records for a host (none: the host is unknown). */
export function recordedKeyTypes(files: KnownHostsFile[], host: string, port: number): string[] {
  return [
    ...new Set(
      entriesFor(files, host, port)
        .filter((e) => e.marker === undefined)
        .map((e) => e.keyType),
    ),
  ]
}

// ssh2's own preference order; an RSA key is negotiated with SHA-2 signatures first.
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
}

/**
 * The host key algorithms to offer for a host whose recorded key types are `keyTypes`. Without this
 * restriction a host known only by its RSA key that also has an ed25519 key would present the
 * ed25519 one and look changed. Types ssh2 cannot negotiate (security keys, certificates) are dropped.
 */
export function hostKeyAlgorithmsFor(keyTypes: string[]): string[] {
  return Object.entries(HOST_KEY_ALGORITHMS)
    .filter(([type]) => keyTypes.includes(type))
    .flatMap(([, algorithms]) => algorithms)
}

/** The key type named inside an SSH wire-format key blob (its first string), or '' when unreadable. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return ''
  const len = keyBlob.readUInt32BE(0)
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return ''
  return keyBlob.subarray(4, 4 + len).toString('latin1')
}

/** The fingerprint as `ssh-keygen -l` prints it: `SHA256:` and unpadded base64. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`
}

/** The known_hosts line that trusts this key for host:port, e.g. `[10.0.0.5]:2222 ssh-ed25519 AAAA…`. */
export function knownHostsLine(host: string, port: number, keyBlob: Buffer): string {
  return `${hostToken(host, port)} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`
}
