// withInterruption: the first Ctrl-C lets the run return what it read; the deadline it sets for a run
// that does not come back must not fire once the run has come back (the report may still be going into
// a slow pipe, and the deadline ends the process).
import {afterEach, describe, expect, it, vi} from 'vitest'
import type {NodeReader} from '../../src/app/ports.js'
import {withInterruption} from '../../src/commands/wiring.js'

const reader = {close: async () => undefined} as unknown as NodeReader
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** stderr taken at once, as a terminal would (exitAfterDrain waits for it). */
const quietStderr = () =>
  vi.spyOn(process.stderr, 'write').mockImplementation(((_text: string, done?: () => void) => {
    if (typeof done === 'function') done()
    return true
  }) as never)

afterEach(() => vi.restoreAllMocks())

describe('withInterruption', () => {
  it('after a Ctrl-C, a run that comes back is not ended by the close deadline later', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    quietStderr()
    const run = await withInterruption(
      reader,
      async (interrupted) => {
        process.emit('SIGINT', 'SIGINT')
        await interrupted
        return 'what was read'
      },
      {closeLimitMs: 30},
    )
    expect(run).toEqual({result: 'what was read', interruption: {signal: 'SIGINT', code: 130}})
    await sleep(150)
    expect(exit).not.toHaveBeenCalled()
  })

  it("a run that does not come back in time is ended with the signal's code", async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    quietStderr()
    let finish: () => void = () => undefined
    const run = withInterruption(
      reader,
      async () => {
        process.emit('SIGINT', 'SIGINT')
        await new Promise<void>((resolve) => (finish = resolve))
        return 'late'
      },
      {closeLimitMs: 30},
    )
    await sleep(150)
    expect(exit).toHaveBeenCalledWith(130)
    finish()
    await run
  })
})
