// The terminal passphrase prompt: no echo, one prompt at a time, nothing asked without a terminal.
import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {terminalPassphrasePrompt, type TtyInput} from '../../src/adapters/ssh/passphrase.js'

function terminal(): {input: TtyInput & PassThrough; output: PassThrough; shown: () => string; rawModes: boolean[]} {
  const rawModes: boolean[] = []
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    isRaw: false,
    setRawMode(raw: boolean) {
      rawModes.push(raw)
    },
  })
  const output = new PassThrough()
  let text = ''
  output.on('data', (d: Buffer) => {
    text += String(d)
  })
  return {input, output, shown: () => text, rawModes}
}

const tick = () => new Promise((r) => setTimeout(r, 10))

describe('terminalPassphrasePrompt', () => {
  it('asks nothing when the input is not a terminal', () => {
    expect(terminalPassphrasePrompt('/home/u', new PassThrough(), new PassThrough())).toBeUndefined()
  })

  it('asks like OpenSSH, reads without echo, honours backspace, restores the mode', async () => {
    const t = terminal()
    const prompt = terminalPassphrasePrompt('/home/u', t.input, t.output)!
    const answer = prompt('/home/u/.ssh/id_ed25519')
    await tick()
    t.input.write('sexret\u007f\u007f\u007f\u007fcret\r')
    expect(await answer).toBe('secret')
    expect(t.shown()).toBe("Enter passphrase for key '~/.ssh/id_ed25519': \n")
    expect(t.rawModes).toEqual([true, false])
  })

  it('gives up on Ctrl-C', async () => {
    const t = terminal()
    const answer = terminalPassphrasePrompt('/home/u', t.input, t.output)!('/keys/k')
    await tick()
    t.input.write('abc\u0003')
    expect(await answer).toBeUndefined()
  })

  it('asks one key at a time', async () => {
    const t = terminal()
    const prompt = terminalPassphrasePrompt('/home/u', t.input, t.output)!
    const first = prompt('/keys/a')
    const second = prompt('/keys/b')
    await tick()
    expect(t.shown()).toBe("Enter passphrase for key '/keys/a': ")
    t.input.write('one\r')
    expect(await first).toBe('one')
    await tick()
    t.input.write('two\n')
    expect(await second).toBe('two')
    expect(t.shown()).toBe("Enter passphrase for key '/keys/a': \nEnter passphrase for key '/keys/b': \n")
  })
})
