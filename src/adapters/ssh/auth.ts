// Public-key authentication as OpenSSH does it: the agent first, then each identity file in order. An
// encrypted key asks for its passphrase only when the server gets that far, once per file per run
// (several nodes connecting at once share the one prompt). What was tried is recorded for the
// "authentication failed (tried: …)" message.
import {readFile} from 'node:fs/promises'
import ssh2 from 'ssh2'
import type {AuthHandlerMiddleware, ParsedKey} from 'ssh2'
import {displayPath} from './settings.js'

/** Asks the user for a key's passphrase (on a TTY); undefined when they give none. */
export type PassphrasePrompt = (keyFile: string) => Promise<string | undefined>

type LoadedKey = {ok: true; key: ParsedKey} | {ok: false; why: string; missing: boolean}

/** Identity files read (and decrypted) at most once per run. */
export class KeyStore {
  private readonly loads = new Map<string, Promise<LoadedKey>>()

  constructor(private readonly prompt?: PassphrasePrompt) {}

  load(file: string): Promise<LoadedKey> {
    let loading = this.loads.get(file)
    if (!loading) {
      loading = this.read(file)
      this.loads.set(file, loading)
    }
    return loading
  }

  private async read(file: string): Promise<LoadedKey> {
    let data: Buffer
    try {
      data = await readFile(file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      return {ok: false, why: code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? String(err)}`, missing: code === 'ENOENT'}
    }
    let parsed = ssh2.utils.parseKey(data)
    if (parsed instanceof Error && /no passphrase given/i.test(parsed.message)) {
      if (!this.prompt) return {ok: false, why: 'encrypted, and no terminal to ask for its passphrase', missing: false}
      const passphrase = await this.prompt(file)
      if (!passphrase) return {ok: false, why: 'encrypted, no passphrase given', missing: false}
      parsed = ssh2.utils.parseKey(data, passphrase)
      if (parsed instanceof Error) return {ok: false, why: 'wrong passphrase', missing: false}
    }
    if (parsed instanceof Error) return {ok: false, why: `not a private key (${parsed.message})`, missing: false}
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed
    if (!key.isPrivateKey()) return {ok: false, why: 'a public key, not a private key', missing: false}
    return {ok: true, key}
  }
}

/** How one hop authenticates. */
export interface AuthPlan {
  user: string
  /** The agent's socket (SSH_AUTH_SOCK); undefined: no agent. */
  agent?: string
  keyFiles: string[]
  /** Key files the user named (--ssh-key, IdentityFile): a missing one is reported, a default is not. */
  namedKeyFiles: boolean
}

/**
 * An ssh2 authHandler that tries the agent, then each key file. `whilePaused` wraps the wait for a
 * passphrase so the connect timeout does not run while the user types. `tried` collects what was
 * offered, for the error message.
 */
export function authHandler(
  plan: AuthPlan,
  keys: KeyStore,
  tried: string[],
  home: string,
  whilePaused: <T>(work: Promise<T>) => Promise<T>,
): AuthHandlerMiddleware {
  // Consumed across calls: each callback resumes with the step after the last one offered.
  const untried: ({kind: 'agent'; socket: string} | {kind: 'key'; file: string})[] = [
    ...(plan.agent ? [{kind: 'agent' as const, socket: plan.agent}] : []),
    ...plan.keyFiles.map((file) => ({kind: 'key' as const, file})),
  ]
  return (methodsLeft, _partialSuccess, callback) => {
    // ssh2 takes `false` for "nothing left to try"; its typings do not say so.
    const giveUp = () => (callback as unknown as (auth: false) => void)(false)
    // methodsLeft is null before the first attempt; afterwards the server's list.
    if (methodsLeft && !methodsLeft.includes('publickey')) return giveUp()
    void (async () => {
      for (let step = untried.shift(); step !== undefined; step = untried.shift()) {
        if (step.kind === 'agent') {
          tried.push('agent')
          callback({type: 'agent', username: plan.user, agent: step.socket})
          return
        }
        const loaded = await whilePaused(keys.load(step.file))
        const shown = displayPath(step.file, home)
        if (loaded.ok) {
          tried.push(shown)
          callback({type: 'publickey', username: plan.user, key: loaded.key})
          return
        }
        if (plan.namedKeyFiles || !loaded.missing) tried.push(`${shown} (${loaded.why})`)
      }
      giveUp()
    })()
  }
}
