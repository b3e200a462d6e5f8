// The passphrase prompt for an encrypted SSH key, on the terminal and without echo, as OpenSSH asks:
//   Enter passphrase for key '~/.ssh/id_ed25519':
// Prompts never overlap: nodes connecting at once wait for the one prompt of a key (see KeyStore).
import type {PassphrasePrompt} from './auth.js'
import {displayPath} from './settings.js'

/** A terminal input: what the prompt needs of process.stdin. */
export interface TtyInput extends NodeJS.ReadableStream {
  isTTY?: boolean
  isRaw?: boolean
  setRawMode?(raw: boolean): unknown
}

/** Asks on the terminal; undefined when the input is not a terminal (then encrypted keys are skipped). */
export function terminalPassphrasePrompt(home: string, input: TtyInput, output: NodeJS.WritableStream): PassphrasePrompt | undefined {
  if (!input.isTTY || typeof input.setRawMode !== 'function') return undefined
  let queue: Promise<unknown> = Promise.resolve()
  return (keyFile) => {
    const asked = queue.then(() => ask(input, output, `Enter passphrase for key '${displayPath(keyFile, home)}': `))
    queue = asked.catch(() => undefined)
    return asked
  }
}

function ask(input: TtyInput, output: NodeJS.WritableStream, question: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const wasRaw = input.isRaw ?? false
    let typed = ''
    const finish = (value: string | undefined) => {
      input.removeListener('data', onData)
      input.setRawMode?.(wasRaw)
      input.pause()
      output.write('\n')
      resolve(value)
    }
    // Raw mode: keys arrive one by one and are not echoed; Enter ends, Ctrl-C or Ctrl-D gives up.
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return finish(typed)
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined)
        typed = ch === '\u007f' || ch === '\b' ? typed.slice(0, -1) : typed + ch
      }
    }
    output.write(question)
    input.setRawMode?.(true)
    input.on('data', onData)
    input.resume()
  })
}
