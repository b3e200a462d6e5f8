// Output that arrives whole through a pipe, however slowly it is read: writes resolve once the
// stream has taken the bytes, and the process ends by itself (process.exitCode) rather than by
// process.exit() with writes pending.

/** Writes all of `text`; resolves once the stream has taken it. A reader gone away (EPIPE, `| head`) is normal. */
export function writeFully(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (!err || (err as NodeJS.ErrnoException).code === 'EPIPE' ? resolve() : reject(err)))
  })
}

// What a write to a pipe carries at a time: big enough that writes are few, small enough that
// the output is never whole in memory.
const BLOCK = 64 * 1024

/**
 * Writes the pieces in turn, gathered into blocks of about 64 KiB, waiting for 'drain' whenever
 * the stream holds more than it wants, so a slow reader sets the pace. Resolves once the stream has
 * taken the last block; a reader gone away (EPIPE, `| head`) ends the writing early, as normal.
 */
export async function writePieces(stream: NodeJS.WriteStream, pieces: Iterable<string>): Promise<void> {
  let failure: NodeJS.ErrnoException | undefined
  const taken = (err?: Error | null) => {
    failure ??= err ?? undefined
  }
  let block = ''
  for (const piece of pieces) {
    block += piece
    if (block.length < BLOCK) continue
    const room = stream.write(block, taken)
    block = ''
    // A destroyed stream (its reader gone) never drains: write() says false and the loop ends below.
    if (!room && !stream.destroyed) await drained(stream)
    if (failure || stream.destroyed) break
  }
  if (!failure && !stream.destroyed) await writeFully(stream, block)
  // An error can close the stream before the write's own callback has told it.
  const error = (failure ?? stream.errored) as NodeJS.ErrnoException | null | undefined
  if (error && error.code !== 'EPIPE') throw error
}

/** Resolves when the stream wants more, or will take nothing more (an error closed it). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done).off('error', done)
      resolve()
    }
    stream.on('drain', done).on('close', done).on('error', done)
  })
}

/**
 * Ends the process with `code` once stdout and stderr have taken everything written so far. For
 * the signal path only, where the work must stop now; everywhere else set process.exitCode and return.
 */
export async function exitAfterDrain(code: number): Promise<never> {
  await Promise.all([writeFully(process.stdout, ''), writeFully(process.stderr, '')]).catch(() => undefined)
  process.exit(code)
}
