// Output that arrives whole through a pipe, however slowly it is read: writes resolve once the
// stream has taken the bytes, and the process ends by itself (process.exitCode) rather than by
// process.exit() with writes pending.

/** Writes all of `text`; resolves once the stream has taken it. A reader gone away (EPIPE, `| head`) is normal. */
export function writeFully(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (!err || (err as NodeJS.ErrnoException).code === 'EPIPE' ? resolve() : reject(err)))
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
