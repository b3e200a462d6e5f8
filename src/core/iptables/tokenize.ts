// Splits one iptables rule line into words, honouring the quoting iptables-save writes:
//   -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -j KUBE-SVC-XPGD46QRK7WJZT7O
// Inside double quotes a backslash escapes `"` and `\` (xtables_save_string); iptables-restore input
// may also use single quotes.

/** A word of a rule, remembering whether it was quoted (so it prints back the same way). */
export interface Word {
  text: string
  quoted: boolean
}

/** Tokenises `line`; returns an error sentence for an unterminated quote. */
export function tokenizeRule(line: string): Word[] | {error: string} {
  const words: Word[] = []
  let i = 0
  const n = line.length
  while (i < n) {
    const c = line.charCodeAt(i)
    if (c === 32 || c === 9) {
      i++
      continue
    }
    if (c === 34 || c === 39) {
      const quote = c === 34 ? '"' : "'"
      const close = line.indexOf(quote, i + 1)
      const slash = quote === '"' ? line.indexOf('\\', i + 1) : -1
      if (close >= 0 && (slash < 0 || slash > close)) {
        // The common case: no escapes inside.
        words.push({text: line.slice(i + 1, close), quoted: true})
        i = close + 1
        continue
      }
      let text = ''
      let j = i + 1
      for (; j < n && line[j] !== quote; j++) {
        if (line[j] === '\\' && quote === '"' && j + 1 < n) j++
        text += line[j]
      }
      if (j >= n) return {error: `unterminated ${quote === '"' ? 'double' : 'single'} quote`}
      words.push({text, quoted: true})
      i = j + 1
      continue
    }
    let j = i
    while (j < n && line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) j++
    words.push({text: line.slice(i, j), quoted: false})
    i = j
  }
  return words
}

// Any character but printable ASCII, or a single quote (0x27), or a backslash (0x5c): one character class is the fastest test.
const NOT_AS_WRITTEN = /[^\x20-\x26\x28-\x5b\x5d-\x7e]/

/**
 * True when `words` (tokenizeRule's of `line`), printed with formatWord and joined by single spaces,
 * are the line itself. Past the one character test, the line holds no tab, escape or character
 * formatWord would quote, so a word prints as written plus its quotes: the lengths then agree
 * exactly when the words are one space apart (no run of spaces, none at either end, no words
 * touching), and the double quotes counted are those around the quoted words. False may be said of a
 * line that would print back the same (a comment with an apostrophe): it is then printed from its
 * parts. Every rule line of a trace asks, so no character is looked at twice in JavaScript.
 */
export function printsAsWritten(line: string, words: readonly Word[]): boolean {
  if (words.length === 0 || NOT_AS_WRITTEN.test(line)) return false
  let length = words.length - 1
  let quoted = 0
  for (const w of words) {
    length += w.text.length
    if (w.quoted) {
      length += 2
      quoted++
    }
  }
  if (length !== line.length) return false
  let quotes = 0
  for (let at = line.indexOf('"'); at >= 0; at = line.indexOf('"', at + 1)) quotes++
  return quotes === 2 * quoted
}

/** Prints a word back, quoting it when it was quoted or needs quotes. */
export function formatWord(word: Word): string {
  const needs = word.quoted || word.text === '' || /[\s"'\\]/.test(word.text)
  if (!needs) return word.text
  return `"${word.text.replace(/["\\]/g, (m) => `\\${m}`)}"`
}
