// writePieces: output made piece by piece reaches a slow stream whole and in order, is made only
// as fast as the stream takes it, and stops quietly when the reader has gone (EPIPE).
import {Writable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {writePieces} from '../../src/commands/streams.js'

const PIECE = 'x'.repeat(999) + '\n'

/** A stream that takes each write a tick later, as a pipe read by a slow reader does; `failAt` fails that write with `code`. */
function slowStream(failAt?: {write: number; code: string}) {
  const sink = {text: '', writes: 0}
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      sink.writes++
      if (failAt && sink.writes === failAt.write) return setImmediate(() => done(Object.assign(new Error(`write ${failAt.code}`), {code: failAt.code})))
      setImmediate(() => {
        sink.text += chunk
        done()
      })
    },
  })
  // As on process.stdout, where oclif swallows EPIPE: the write's own callback carries the error.
  stream.on('error', () => undefined)
  return {stream: stream as unknown as NodeJS.WriteStream, sink}
}

/** `count` pieces, recording how far ahead of the stream the making runs. */
function pieces(count: number, sink: {text: string}) {
  const made = {count: 0, maxAhead: 0}
  function* generate() {
    for (let i = 0; i < count; i++) {
      made.count++
      made.maxAhead = Math.max(made.maxAhead, made.count * PIECE.length - sink.text.length)
      yield PIECE
    }
  }
  return {made, generate: generate()}
}

describe('writePieces', () => {
  it('writes 5 MB whole and in order, never more than a few blocks ahead of a slow stream', async () => {
    const {stream, sink} = slowStream()
    const {made, generate} = pieces(5000, sink)
    await writePieces(stream, generate)
    expect(sink.text).toBe(PIECE.repeat(5000))
    expect(made.maxAhead).toBeLessThan(256 * 1024)
  })

  it('writes a short output in one write', async () => {
    const {stream, sink} = slowStream()
    await writePieces(stream, ['{', '\n  "a": 1', '\n}', '\n'])
    expect(sink.text).toBe('{\n  "a": 1\n}\n')
    expect(sink.writes).toBe(1)
  })

  it('stops making pieces, and resolves, when the reader has gone (EPIPE)', async () => {
    const {stream, sink} = slowStream({write: 3, code: 'EPIPE'})
    const {made, generate} = pieces(5000, sink)
    await writePieces(stream, generate)
    expect(made.count).toBeLessThan(1000)
    expect(sink.text.length).toBeLessThan(256 * 1024)
  })

  it('rejects with any other write error', async () => {
    const {stream, sink} = slowStream({write: 2, code: 'EIO'})
    await expect(writePieces(stream, pieces(5000, sink).generate)).rejects.toThrow('write EIO')
  })
})
