// A write stream that records what is written, as a terminal or as a pipe.

/** A stream whose `text` is everything written to it; `isTTY` says whether it poses as a terminal. */
export function recordingStream(isTTY: boolean): NodeJS.WriteStream & {text: string} {
  const s = {
    isTTY,
    text: '',
    write(chunk: string) {
      s.text += chunk
      return true
    },
  }
  return s as unknown as NodeJS.WriteStream & {text: string}
}
