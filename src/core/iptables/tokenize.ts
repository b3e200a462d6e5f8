// Splits one iptables rule line into words, honouring the quoting iptables-save writes:
//   -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -j KUBE-SVC-XPGD46QRK7WJZT7O
// Inside double quotes a backslash escapes `"` and `\` (xtables_save_string); iptables-restore input
// may also use single quotes.

/** A word of a rule, remembering whether it was quoted (so it prints back the same way). */
export interface Word {
  text: string
  quoted: boolean
}

/** A rule line's words, and whether printing them back (formatWord, single spaces) gives the line itself. */
export interface Tokens {
  words: Word[]
  /**
   * True when the words, printed with formatWord and joined by single spaces, are the line: it holds
   * only printable ASCII other than `'` and `\`, its words are one space apart (none at either end),
   * and a `"` appears only around a quoted word. False may be said of a line that would print back the
   * same (a comment with an apostrophe): it is then printed from its parts. Worked out in the one pass
   * over the characters, as every rule line of a trace asks.
   */
  asWritten: boolean
}

// Any character but printable ASCII, or a single quote (0x27), or a backslash (0x5c): one character class is the fastest test.
const NOT_AS_WRITTEN = /[^\x20-\x26\x28-\x5b\x5d-\x7e]/

/** Tokenises `line`; returns an error sentence for an unterminated quote. */
export function tokenizeRule(line: string): Tokens | {error: string} {
  const words: Word[] = []
  const n = line.length
  // Past this one test, the line holds no tab, escape or character formatWord would quote: a word
  // prints as written (plus its quotes), so what is left to check is the spacing between words.
  let asWritten = n > 0 && !NOT_AS_WRITTEN.test(line)
  // Without tabs a word ends at the next space, found natively.
  const tabs = line.includes('\t')
  // Where the last word ended: the next one must start one space later for the line to print as written.
  let lastEnd = -1
  let i = 0
  while (i < n) {
    const c = line.charCodeAt(i)
    if (c === 32 || c === 9) {
      i++
      continue
    }
    if (i !== lastEnd + 1) asWritten = false
    if (c === 34 || c === 39) {
      const quote = c === 34 ? '"' : "'"
      const close = line.indexOf(quote, i + 1)
      const slash = quote === '"' ? line.indexOf('\\', i + 1) : -1
      if (close >= 0 && (slash < 0 || slash > close)) {
        // The common case: no escapes inside.
        words.push({text: line.slice(i + 1, close), quoted: true})
        i = lastEnd = close + 1
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
      i = lastEnd = j + 1
      continue
    }
    let j: number
    if (tabs) {
      j = i
      while (j < n && line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) j++
    } else {
      j = line.indexOf(' ', i)
      if (j < 0) j = n
    }
    const text = line.slice(i, j)
    // A double quote inside an unquoted word would be printed quoted.
    if (asWritten && text.includes('"')) asWritten = false
    words.push({text, quoted: false})
    i = lastEnd = j
  }
  return {words, asWritten: asWritten && lastEnd === n}
}

/** Prints a word back, quoting it when it was quoted or needs quotes. */
export function formatWord(word: Word): string {
  const needs = word.quoted || word.text === '' || /[\s"'\\]/.test(word.text)
  if (!needs) return word.text
  return `"${word.text.replace(/["\\]/g, (m) => `\\${m}`)}"`
}
