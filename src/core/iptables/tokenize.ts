// Splits one iptables rule line into words, honouring the quoting iptables-save writes:
//   -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -j KUBE-SVC-XPGD46QRK7WJZT7O
// Inside double quotes a backslash escapes `"` and `\` (xtables_save_string); iptables-restore input
// may also use single quotes.

/** A word of a rule, remembering whether it was quoted (so it prints back the same way). */
export interface Word {
  text: string
  quoted: boolean
}

/**
 * A rule line's words, as places in the line: word i is line[start[i], end[i]) (without its quotes
 * when quoted[i]). The arrays are shared scratch, overwritten by the next tokenizeRule: a caller reads
 * the words before it tokenizes again, and makes strings and Words only of those it keeps (a trace
 * parses every rule of the chains it walks, and most words are keywords compared in place).
 */
export interface Tokens {
  line: string
  count: number
  start: Int32Array
  end: Int32Array
  quoted: Uint8Array
  /** The text of quoted words that held escapes, by word number (their text is not a slice of the line). */
  unescaped: Map<number, string> | undefined
  /**
   * True when the words, printed with formatWord and joined by single spaces, are the line: it holds
   * only printable ASCII other than `'` and `\`, its words are one space apart (none at either end),
   * and a `"` appears only around a quoted word. False may be said of a line that would print back the
   * same (a comment with an apostrophe): it is then printed from its parts.
   */
  asWritten: boolean
}

/** Word i's text (escapes undone). */
export function tokenText(t: Tokens, i: number): string {
  return t.unescaped?.get(i) ?? t.line.slice(t.start[i], t.end[i])
}

/** Word i as a Word. */
export function tokenWord(t: Tokens, i: number): Word {
  return {text: tokenText(t, i), quoted: t.quoted[i] === 1}
}

/** True when word i is `literal`, unquoted (compared in place). */
export function tokenIs(t: Tokens, i: number, literal: string): boolean {
  const start = t.start[i] ?? 0
  return t.quoted[i] === 0 && (t.end[i] ?? 0) - start === literal.length && t.line.startsWith(literal, start)
}

// Any character but printable ASCII, or a single quote (0x27), or a backslash (0x5c): one character class is the fastest test.
const NOT_AS_WRITTEN = /[^\x20-\x26\x28-\x5b\x5d-\x7e]/

let scratch: Tokens = {
  line: '',
  count: 0,
  start: new Int32Array(32),
  end: new Int32Array(32),
  quoted: new Uint8Array(32),
  unescaped: undefined,
  asWritten: false,
}

/** Room for one more word in the scratch arrays. */
function room(t: Tokens): Tokens {
  if (t.count < t.start.length) return t
  const grow = <A extends Int32Array | Uint8Array>(a: A, made: A): A => {
    made.set(a)
    return made
  }
  const size = t.start.length * 2
  return {...t, start: grow(t.start, new Int32Array(size)), end: grow(t.end, new Int32Array(size)), quoted: grow(t.quoted, new Uint8Array(size))}
}

/** Tokenises `line` into the shared scratch (see Tokens); returns an error sentence for an unterminated quote. */
export function tokenizeRule(line: string): Tokens | {error: string} {
  let t = scratch
  t.line = line
  t.count = 0
  t.unescaped = undefined
  const n = line.length
  // Past this one test, the line holds no tab, escape or character formatWord would quote: a word
  // prints as written (plus its quotes), so what is left to check is the spacing between words.
  let asWritten = n > 0 && !NOT_AS_WRITTEN.test(line)
  // Without tabs a word ends at the next space, found natively.
  const tabs = line.includes('\t')
  // Where the last word ended: the next one must start one space later for the line to print as written.
  let lastEnd = -1
  // The next double quote at or after the word being read (-1: none left; -2: not looked for yet).
  let nextQuote = -2
  let i = 0
  while (i < n) {
    const c = line.charCodeAt(i)
    if (c === 32 || c === 9) {
      i++
      continue
    }
    if (i !== lastEnd + 1) asWritten = false
    t = room(t)
    const k = t.count++
    if (c === 34 || c === 39) {
      const quote = c === 34 ? '"' : "'"
      const close = line.indexOf(quote, i + 1)
      const slash = quote === '"' ? line.indexOf('\\', i + 1) : -1
      t.quoted[k] = 1
      if (close >= 0 && (slash < 0 || slash > close)) {
        // The common case: no escapes inside.
        t.start[k] = i + 1
        t.end[k] = close
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
      ;(t.unescaped ??= new Map()).set(k, text)
      t.start[k] = i + 1
      t.end[k] = j
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
    t.quoted[k] = 0
    t.start[k] = i
    t.end[k] = j
    // A double quote inside an unquoted word would be printed quoted (the next one is looked for once per stretch of words).
    if (asWritten && nextQuote !== -1 && nextQuote < j) {
      if (nextQuote < i) nextQuote = line.indexOf('"', i)
      if (nextQuote >= 0 && nextQuote < j) asWritten = false
    }
    i = lastEnd = j
  }
  t.asWritten = asWritten && lastEnd === n
  scratch = t
  return t
}

/** Prints a word back, quoting it when it was quoted or needs quotes. */
export function formatWord(word: Word): string {
  const needs = word.quoted || word.text === '' || /[\s"'\\]/.test(word.text)
  if (!needs) return word.text
  return `"${word.text.replace(/["\\]/g, (m) => `\\${m}`)}"`
}
