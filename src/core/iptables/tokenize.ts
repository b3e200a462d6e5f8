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

/** Prints a word back, quoting it when it was quoted or needs quotes. */
export function formatWord(word: Word): string {
  const needs = word.quoted || word.text === '' || /[\s"'\\]/.test(word.text)
  if (!needs) return word.text
  return `"${word.text.replace(/["\\]/g, (m) => `\\${m}`)}"`
}
