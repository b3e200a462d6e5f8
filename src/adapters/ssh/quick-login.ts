// Fewer round trips to log in, by two changes to how ssh2 1.x drives the user-authentication protocol,
// both allowed by the RFCs and both accepted by OpenSSH's sshd (the system tests log in through it):
//   - the userauth request follows the service request at once, instead of after its SERVICE_ACCEPT;
//   - a key file's key is offered with its signature, instead of asking first whether it would do.
// Each saves one round trip per connection. They patch the connection's Protocol object (ssh2 keeps it
// in `_protocol`, made by connect()); when it is not there as expected, nothing changes.
import type ssh2 from 'ssh2'
import type {ParsedKey} from 'ssh2'

type Handler = (...args: unknown[]) => void

interface ProtocolInternals {
  authPK?: AuthPK
  service?: (name: string) => void
  _handlers?: Record<string, Handler | undefined>
}

function protocolOf(client: ssh2.Client): ProtocolInternals | undefined {
  return (client as unknown as {_protocol?: ProtocolInternals})._protocol
}

/** Both changes, on a client whose connect() has just been called. */
export function quickLogin(client: ssh2.Client): void {
  signPublicKeyAtOnce(client)
  authenticateWithoutWaiting(client)
}

/**
 * Starts authentication right after the `ssh-userauth` service request is sent, without waiting a
 * round trip for SERVICE_ACCEPT (the server handles the two in order; RFC 4253 §10 asks nothing
 * more). Only once the server's EXT_INFO has been read, which comes with its NEWKEYS: ssh2 picks an
 * RSA key's signature algorithm (rsa-sha2-256/512) from it. The SERVICE_ACCEPT that follows is then
 * taken as already handled; a server that refuses the service disconnects, as before.
 */
function authenticateWithoutWaiting(client: ssh2.Client): void {
  const proto = protocolOf(client)
  const handlers = proto?._handlers
  const service = proto?.service
  const accept = handlers?.SERVICE_ACCEPT
  if (!proto || !handlers || typeof service !== 'function' || typeof accept !== 'function') return
  let extInfo = false
  let started = false
  const ext = handlers.EXT_INFO
  handlers.EXT_INFO = (...args) => {
    extInfo = true
    ext?.(...args)
  }
  handlers.SERVICE_ACCEPT = (p, name) => {
    if (name === 'ssh-userauth') {
      if (started) return
      started = true
    }
    accept(p, name)
  }
  proto.service = (name) => {
    service.call(proto, name)
    if (name !== 'ssh-userauth') return
    // After the rest of what arrived with the server's NEWKEYS (its EXT_INFO) has been read.
    setImmediate(() => {
      const sock = (client as unknown as {_sock?: {writable?: boolean}})._sock
      if (started || !extInfo || !sock?.writable) return
      started = true
      accept(proto, name)
    })
  }
}

/** The hash each public-key signature algorithm signs with (ssh2's own table; the rest name their hash). */
const SIGNATURE_HASH: Record<string, string> = {'rsa-sha2-512': 'sha512', 'rsa-sha2-256': 'sha256', 'ssh-rsa': 'sha1'}

const SIGNING_PROBE = Buffer.from('svctrace')

type AuthPK = (user: string, key: ParsedKey, keyAlgo?: string, sign?: (data: Buffer, done: (signature: Buffer) => void) => void) => void

/**
 * Offers each key file's key with its signature at once, as RFC 4252 §7 allows, instead of asking
 * first whether the server would take it (ssh2's and OpenSSH's way): one round trip less per login.
 * A key the server refuses fails as before, and the next is tried. Agent keys are still asked about
 * first (their signature is the agent's to give).
 */
function signPublicKeyAtOnce(client: ssh2.Client): void {
  const proto = protocolOf(client)
  const authPK = proto?.authPK
  if (!proto || typeof authPK !== 'function') return
  proto.authPK = (user, key, keyAlgo, sign) => {
    if (sign || typeof key?.isPrivateKey !== 'function' || !key.isPrivateKey()) return authPK.call(proto, user, key, keyAlgo, sign)
    const hash = keyAlgo === undefined ? undefined : SIGNATURE_HASH[keyAlgo]
    // A key that cannot sign (a hash OpenSSL refuses) goes the asking way, where ssh2 reports it.
    if (key.sign(SIGNING_PROBE, hash) instanceof Error) return authPK.call(proto, user, key, keyAlgo)
    return authPK.call(proto, user, key, keyAlgo, (data, done) => done(key.sign(data, hash)))
  }
}
