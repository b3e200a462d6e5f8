// known_hosts lookups as OpenSSH does them. The keys, fingerprints and hashed lines below are real
// ssh-keygen output (OpenSSH 9.2):
//   ssh-keygen -t ed25519 -f ed1; ssh-keygen -t ed25519 -f ed2; ssh-keygen -t rsa -b 2048 -f rsa1
//   ssh-keygen -lf ed1.pub …                          → the fingerprints
//   printf '10.0.0.3 <ed1>\n[10.0.0.5]:2222 <ed1>\n' > kh; ssh-keygen -H -f kh   → the hashed lines
import {describe, expect, it} from 'vitest'
import {
  fingerprintSha256,
  hostKeyAlgorithmsFor,
  hostToken,
  keyTypeOf,
  knownHostsLine,
  lookupHostKey,
  parseKnownHosts,
  recordedKeyTypes,
  type HostKeyStatus,
  type KnownHostsFile,
} from '../../src/adapters/ssh/known-hosts.js'
import {defined} from '../support/defined.js'

const ED1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINff8QuRIKG+wETSficcBszixCavzey4voPNYge7P408'
const ED2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL6I6ctgTwm5X+RytS6v6O506wGqG53utTNNPt7jm2Q7'
const RSA1 =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQD2RHUFMwsbGCMAJQAUhWD167OuUv4tNcX16fq5UWZrEdHy9eVQ9eapCTot6vZJATeV5KYOfNBten2/P+div0s0bYZ/' +
  'yMvVibc/SSn+D7MO5o2TwtzvSee1s7FPAcWWIzLHwmKIS4f2vjBdDbKf3qeL7Wdxk7NMXcdlZAhi/KuB1CUdkkrdPGtJGthE6XRvd9nNXZXVxFSycdPvW9HrPSh/' +
  'd4AU2jN5sme7H6CCbCByVackXm1hO1jGEGxmA989yJWzSgvw03Pj0oBQzQQ8TRH5p3eig0qdGBhkND8oagPIG7iHyJrvKZS4QuYiEtzG4jMgcc5AOMyQ94HMrmBKm2bL'
const ED1_FP = 'SHA256:RmV2cD9VRpW2iAhB3yx3CgXu8DhTXZvQzwCtbZCE1to'
const ED2_FP = 'SHA256:jWYY7SjkA6VikyrICw4zYs0Xppatw5LYKF4Wa4KS9sk'
const RSA1_FP = 'SHA256:aMpboOh7a/T/BuKX1E9VV7rKUczGA97LJZKNsE/vv/U'
const HASHED_10_0_0_3 = `|1|W+a6h3GKqOy+68Y4hfGG5YFzyzk=|CeVi4BE8DKl82/zERyq/Jnz8c/g= ${ED1}`
const HASHED_10_0_0_5_2222 = `|1|fVX3t8f05YSV4xQ5viA8IvXJKDg=|5EcO5nzeC1ifdzr0wixBqr5Q5Js= ${ED1}`

function blob(publicKey: string): Buffer {
  return Buffer.from(defined(publicKey.split(' ')[1], 'the key blob'), 'base64')
}

function files(...texts: string[]): KnownHostsFile[] {
  return texts.map((text, i) => ({path: `/home/u/.ssh/known_hosts${i === 0 ? '' : i + 1}`, text}))
}

describe('lookupHostKey', () => {
  const cases: {name: string; text: string; host: string; port?: number; key: string; status: HostKeyStatus; expected?: string[]}[] = [
    {name: 'plain host, same key', text: `10.0.0.3 ${ED1}`, host: '10.0.0.3', key: ED1, status: 'ok'},
    {name: 'plain host, other key of the same type', text: `10.0.0.3 ${ED1}`, host: '10.0.0.3', key: ED2, status: 'mismatch', expected: ['ssh-ed25519']},
    {name: 'host not listed', text: `10.0.0.4 ${ED1}`, host: '10.0.0.3', key: ED1, status: 'unknown'},
    {name: 'empty file', text: '', host: '10.0.0.3', key: ED1, status: 'unknown'},
    {name: '[host]:port entry, same port', text: `[10.0.0.5]:2222 ${ED1}`, host: '10.0.0.5', port: 2222, key: ED1, status: 'ok'},
    {name: '[host]:port entry, port 22 asked', text: `[10.0.0.5]:2222 ${ED1}`, host: '10.0.0.5', key: ED1, status: 'unknown'},
    {name: 'bare host entry, other port asked', text: `10.0.0.5 ${ED1}`, host: '10.0.0.5', port: 2222, key: ED1, status: 'unknown'},
    {name: 'explicit [host]:22 is not how OpenSSH writes port 22', text: `[10.0.0.5]:22 ${ED1}`, host: '10.0.0.5', key: ED1, status: 'unknown'},
    {name: 'comma list, second name', text: `node-a,10.0.0.3 ${ED1}`, host: '10.0.0.3', key: ED1, status: 'ok'},
    {name: 'names compare case-insensitively', text: `NODE-A.Example.COM ${ED1}`, host: 'node-a.example.com', key: ED1, status: 'ok'},
    {name: '* wildcard', text: `10.0.0.* ${ED1}`, host: '10.0.0.77', key: ED1, status: 'ok'},
    {name: '? is exactly one character', text: `10.0.0.? ${ED1}`, host: '10.0.0.15', key: ED1, status: 'unknown'},
    {name: '? matches one character', text: `10.0.0.? ${ED1}`, host: '10.0.0.5', key: ED1, status: 'ok'},
    {name: 'wildcard inside [host]:port', text: `[10.0.0.*]:2222 ${ED1}`, host: '10.0.0.9', port: 2222, key: ED1, status: 'ok'},
    {name: '! negation excludes a host the wildcard matched', text: `10.0.0.*,!10.0.0.9 ${ED1}`, host: '10.0.0.9', key: ED1, status: 'unknown'},
    {name: '! negation leaves the others', text: `10.0.0.*,!10.0.0.9 ${ED1}`, host: '10.0.0.8', key: ED1, status: 'ok'},
    {name: 'dots are literal, not regex', text: `10x0x0x3 ${ED1}`, host: '10.0.0.3', key: ED1, status: 'unknown'},
    {name: 'hashed entry (ssh-keygen -H)', text: HASHED_10_0_0_3, host: '10.0.0.3', key: ED1, status: 'ok'},
    {name: 'hashed entry, other host', text: HASHED_10_0_0_3, host: '10.0.0.4', key: ED1, status: 'unknown'},
    {name: 'hashed entry, changed key', text: HASHED_10_0_0_3, host: '10.0.0.3', key: ED2, status: 'mismatch', expected: ['ssh-ed25519']},
    {name: 'hashed [host]:port entry', text: HASHED_10_0_0_5_2222, host: '10.0.0.5', port: 2222, key: ED1, status: 'ok'},
    {name: 'hashed [host]:port entry, port 22 asked', text: HASHED_10_0_0_5_2222, host: '10.0.0.5', key: ED1, status: 'unknown'},
    {name: '@revoked wins over a plain entry', text: `10.0.0.3 ${ED1}\n@revoked * ${ED1}`, host: '10.0.0.3', key: ED1, status: 'revoked'},
    {name: '@revoked of another key does not matter', text: `10.0.0.3 ${ED1}\n@revoked * ${ED2}`, host: '10.0.0.3', key: ED1, status: 'ok'},
    {name: '@cert-authority never vouches for a plain key', text: `@cert-authority *.example ${ED1}`, host: 'a.example', key: ED1, status: 'unknown'},
    {name: 'any recorded key of the host may match', text: `10.0.0.3 ${RSA1}\n10.0.0.3 ${ED1}`, host: '10.0.0.3', key: ED1, status: 'ok'},
    // The pitfall: the host is known by its RSA key only and presents ed25519. Without restricting
    // the offered algorithms (hostKeyAlgorithmsFor) this is what a healthy host would look like.
    {name: 'only RSA recorded, ed25519 presented', text: `10.0.0.3 ${RSA1}`, host: '10.0.0.3', key: ED1, status: 'mismatch', expected: ['ssh-rsa']},
    {
      name: 'comments, blanks and garbage are skipped',
      text: `# comment\n\n  \ngarbage\n10.0.0.3 ssh-ed25519\n10.0.0.3 ${ED1} comment`,
      host: '10.0.0.3',
      key: ED1,
      status: 'ok',
    },
    {name: 'key type field must agree with the key', text: `10.0.0.3 ssh-rsa ${ED1.split(' ')[1]}`, host: '10.0.0.3', key: ED1, status: 'unknown'},
    {name: 'unknown @marker lines are skipped', text: `@weird 10.0.0.3 ${ED1}`, host: '10.0.0.3', key: ED1, status: 'unknown'},
  ]
  it.each(cases)('$name → $status', ({text, host, port, key, status, expected}) => {
    const got = lookupHostKey(files(text), host, port ?? 22, blob(key))
    expect(got.status).toBe(status)
    expect(got.expected).toEqual(expected)
  })

  it('reads every file, and tells where each recorded key is', () => {
    const got = lookupHostKey(files(`# user file\n10.0.0.9 ${ED1}`, `\n10.0.0.3 ${RSA1}\n10.0.0.3 ${ED1}`), '10.0.0.3', 22, blob(ED2))
    expect(got.status).toBe('mismatch')
    expect(got.recorded).toEqual([
      {keyType: 'ssh-rsa', fingerprint: RSA1_FP, file: '/home/u/.ssh/known_hosts2', line: 2},
      {keyType: 'ssh-ed25519', fingerprint: ED1_FP, file: '/home/u/.ssh/known_hosts2', line: 3},
    ])
    expect(got.expected).toEqual(['ssh-rsa', 'ssh-ed25519'])
  })

  it('names the entry that matched', () => {
    const got = lookupHostKey(files(`10.0.0.4 ${ED2}\n10.0.0.3 ${ED1}`), '10.0.0.3', 22, blob(ED1))
    expect(got.matched).toEqual({keyType: 'ssh-ed25519', fingerprint: ED1_FP, file: '/home/u/.ssh/known_hosts', line: 2})
  })
})

describe('host key algorithms', () => {
  it('offers only the types recorded for the host (the RSA-only pitfall)', () => {
    const kh = files(`10.0.0.3 ${RSA1}\n10.0.0.4 ${ED1}\n|1|x|y ${ED2}`)
    expect(recordedKeyTypes(kh, '10.0.0.3', 22)).toEqual(['ssh-rsa'])
    expect(hostKeyAlgorithmsFor(['ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'])
    expect(recordedKeyTypes(kh, '10.0.0.9', 22)).toEqual([])
  })

  it('keeps ssh2 preference order and drops types ssh2 cannot negotiate', () => {
    expect(hostKeyAlgorithmsFor(['ssh-rsa', 'ecdsa-sha2-nistp256', 'ssh-ed25519'])).toEqual([
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ])
    expect(hostKeyAlgorithmsFor(['sk-ssh-ed25519@openssh.com'])).toEqual([])
  })

  it('does not count @revoked or @cert-authority lines as recorded keys', () => {
    expect(recordedKeyTypes(files(`@revoked 10.0.0.3 ${RSA1}\n@cert-authority 10.0.0.3 ${ED1}`), '10.0.0.3', 22)).toEqual([])
  })
})

describe('fingerprints and lines to add', () => {
  it.each([
    [ED1, ED1_FP],
    [ED2, ED2_FP],
    [RSA1, RSA1_FP],
  ])('%# fingerprint matches ssh-keygen -l', (key, fp) => {
    expect(fingerprintSha256(blob(key))).toBe(fp)
  })

  it('reads the key type from the blob', () => {
    expect(keyTypeOf(blob(RSA1))).toBe('ssh-rsa')
    expect(keyTypeOf(Buffer.from('nonsense'))).toBe('')
  })

  it.each([
    ['10.0.0.3', 22, '10.0.0.3'],
    ['10.0.0.5', 2222, '[10.0.0.5]:2222'],
    ['Node-A.example.com', 22, 'node-a.example.com'],
    ['fd00::5', 2222, '[fd00::5]:2222'],
  ])('host token for %s port %i is %s', (host, port, token) => {
    expect(hostToken(host, port)).toBe(token)
  })

  it('writes the exact line OpenSSH would record, and that line is then accepted', () => {
    const line = knownHostsLine('10.0.0.5', 2222, blob(ED1))
    expect(line).toBe(`[10.0.0.5]:2222 ${ED1}`)
    expect(lookupHostKey(files(line), '10.0.0.5', 2222, blob(ED1)).status).toBe('ok')
  })

  it('parses markers and keeps line numbers', () => {
    const entries = parseKnownHosts(`\n@revoked * ${ED1}\n@cert-authority *.example ${ED2}\n${HASHED_10_0_0_3}`, 'kh')
    expect(entries.map((e) => [e.line, e.marker ?? '-', e.hosts.kind])).toEqual([
      [2, 'revoked', 'patterns'],
      [3, 'cert-authority', 'patterns'],
      [4, '-', 'hashed'],
    ])
  })
})
