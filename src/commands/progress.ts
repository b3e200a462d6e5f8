// The "reading 7/20 nodes…" line: on stderr, only when stderr is a terminal, rewritten in place and
// erased when the nodes are read, so it never mixes with the report or a pipe.

export interface Progress {
  update(done: number, total: number): void
  /** Erases the line (before a prompt, and at the end). */
  clear(): void
  /** Writes whole lines (ending in \n) above the progress line, which is then drawn again below them. */
  above(lines: string): void
}

/** A progress line on `stream` when it is a TTY; undefined otherwise. */
export function nodeProgress(stream: NodeJS.WriteStream): Progress | undefined {
  if (!stream.isTTY) return undefined
  let shown: string | undefined
  const line = (done: number, total: number) => `reading ${done}/${total} node${total === 1 ? '' : 's'}…`
  return {
    update(done, total) {
      shown = line(done, total)
      stream.write(`\r\u001b[K${shown}`)
    },
    clear() {
      if (shown !== undefined) stream.write('\r\u001b[K')
      shown = undefined
    },
    above(lines) {
      // One write: the erase, the lines and the redrawn progress reach the terminal together.
      stream.write(shown === undefined ? lines : `\r\u001b[K${lines}${shown}`)
    },
  }
}
