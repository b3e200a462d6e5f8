// The jump host (--bastion, or ProxyJump in the ssh config): one SSH connection to it, shared by every
// node session that goes through it and closed with the last one, so a run over many nodes logs in to
// the bastion once (and stays under its sshd's MaxStartups). Each node is then reached through a
// direct-tcpip channel, as OpenSSH's ProxyJump does.
import type {Client, ClientChannel} from 'ssh2'
import {connectError, type Hop} from './errors.js'

/** `user@host:port` (IPv6 in brackets): how a bastion is named in messages and keyed in the pool. */
export function bastionName(b: {host: string; port?: number}, user: string): string {
  const host = b.host.includes(':') ? `[${b.host}]` : b.host
  return `${user}@${host}:${b.port ?? 22}`
}

export class BastionPool {
  private readonly open = new Map<string, {client: Promise<Client>; users: number}>()

  /** The shared connection to `name`, made with `dial` when there is none; pair with release(). */
  acquire(name: string, dial: () => Promise<Client>): Promise<Client> {
    let entry = this.open.get(name)
    if (!entry) {
      const created = {client: dial(), users: 0}
      entry = created
      this.open.set(name, created)
      const forget = () => {
        if (this.open.get(name) === created) this.open.delete(name)
      }
      // A failed or dropped bastion is dialled again by the next node.
      created.client.then((c) => c.once('close', forget), forget)
    }
    entry.users += 1
    return entry.client
  }

  release(name: string): void {
    const entry = this.open.get(name)
    if (!entry) return
    entry.users -= 1
    if (entry.users > 0) return
    this.open.delete(name)
    entry.client.then(
      (c) => c.end(),
      () => undefined,
    )
  }
}

/** A direct-tcpip channel from the bastion to the node's real address and port. */
export function forwardThrough(jump: Client, hop: Hop, timeoutMs: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      reject(connectError(new Error('timed out'), hop, {tried: [], timeoutMs}))
    }, timeoutMs)
    jump.forwardOut('127.0.0.1', 0, hop.host, hop.port, (err, channel) => {
      clearTimeout(timer)
      if (timedOut) channel?.close()
      else if (err) reject(connectError(err, hop, {tried: [], timeoutMs}))
      else resolve(channel)
    })
  })
}
