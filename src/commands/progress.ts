// The "reading 7/20 nodes…" line: on stderr, only when stderr is a terminal, rewritten in place and
// erased when the nodes are read, so it never mixes with the report or a pipe.

export interface Progress {
  update(done: number, total: number): void
  /** Erases the line (before a prompt, and at the end). */
  clear(): void
}

/** A progress line on `stream` when it is a TTY; undefined otherwise. */
export function nodeProgress(stream: NodeJS.WriteStream): Progress | undefined {
  if (!stream.isTTY) return undefined
  let shown = false
  return {
    update(done, total) {
      stream.write(`\r\u001b[Kreading ${done}/${total} node${total === 1 ? '' : 's'}…`)
      shown = true
    },
    clear() {
      if (shown) stream.write('\r\u001b[K')
      shown = false
    },
  }
}
