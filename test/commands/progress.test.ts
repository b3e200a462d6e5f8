import {describe, expect, it} from 'vitest'
import {recordingStream} from '../support/recording-stream.js'
import {nodeProgress} from '../../src/commands/progress.js'

const stream = recordingStream

describe('the "reading N/M nodes…" line', () => {
  it('is rewritten in place on a terminal and erased at the end', () => {
    const tty = stream(true)
    const p = nodeProgress(tty)!
    p.update(0, 3)
    p.update(2, 3)
    p.clear()
    expect(tty.text).toBe('\r\u001b[Kreading 0/3 nodes…\r\u001b[Kreading 2/3 nodes…\r\u001b[K')
  })

  it('says "node" for one, and clearing twice (or before anything was shown) writes nothing more', () => {
    const tty = stream(true)
    const p = nodeProgress(tty)!
    p.clear()
    expect(tty.text).toBe('')
    p.update(1, 1)
    p.clear()
    p.clear()
    expect(tty.text).toBe('\r\u001b[Kreading 1/1 node…\r\u001b[K')
  })

  it('never appears when stderr is a pipe or a file', () => {
    const pipe = stream(false)
    expect(nodeProgress(pipe)).toBeUndefined()
    expect(pipe.text).toBe('')
  })
})
