// nft's text syntax as words: `{ } ; ,` stand alone, "quoted strings" are one word, `#` starts a
// comment (`# handle 12`, `# svc1`), and newlines are kept because they end rules and commands.
// Dots and colons stay inside words (10.0.0.1, dnat to 10.0.0.1:80); kube-proxy and nft space the
// concatenation dot and the map colon (`1.2.3.4 . tcp . 80 : goto x`).
import {DumpError} from '../iptables/dump.js'

export interface Token {
  text: string
  line: number
  quoted?: boolean
  /** `# handle N` that followed this line's last word (nft list -a). */
  handle?: number
}

export const NL = '\n'
const SINGLE = new Set(['{', '}', ';', ','])

/** Splits nft text into tokens; an unterminated string is an error naming its line. */
export function tokenizeNft(text: string, source: string): Token[] {
  const out: Token[] = []
  let line = 1
  let i = 0
  const n = text.length
  const push = (t: Token) => {
    const last = out.at(-1)
    if (t.text === NL && (last === undefined || last.text === NL)) return
    out.push(t)
  }
  while (i < n) {
    const c = text.charAt(i)
    if (c === '\n') {
      push({text: NL, line})
      line++
      i++
    } else if (/\s/.test(c)) {
      // Any other white space (form feed, vertical tab, NBSP…): a word below would be empty and never advance.
      i++
    } else if (c === '#') {
      let end = text.indexOf('\n', i)
      if (end < 0) end = n
      const handle = /^#\s*handle\s+(\d+)/.exec(text.slice(i, end))
      const last = out[out.length - 1]
      if (handle && last && last.text !== NL) last.handle = Number(handle[1])
      i = end
    } else if (c === '"') {
      let j = i + 1
      let s = ''
      while (j < n && text[j] !== '"' && text[j] !== '\n') {
        if (text[j] === '\\' && j + 1 < n) j++
        s += text.charAt(j++)
      }
      if (text[j] !== '"') throw new DumpError(source, line, 'a quoted string is not closed on its line: the text is cut or garbled')
      out.push({text: s, line, quoted: true})
      i = j + 1
    } else if (SINGLE.has(c)) {
      out.push({text: c, line})
      i++
    } else {
      let j = i
      while (j < n && !/[\s{};,"#]/.test(text.charAt(j))) j++
      let word = text.slice(i, j)
      // `0: goto x` written without the space: split the map colon off a plain key.
      if (word.length > 1 && word.endsWith(':') && !word.slice(0, -1).includes(':')) {
        out.push({text: word.slice(0, -1), line})
        word = ':'
      }
      out.push({text: word, line})
      i = j
    }
  }
  return out
}

/** Prints tokens back as nft does: one space between words, none before `,` and `;`. */
export function joinTokens(tokens: Token[]): string {
  let s = ''
  for (const t of tokens) {
    if (t.text === NL) continue
    const word = t.quoted ? `"${t.text.replace(/"/g, '\\"')}"` : t.text
    s += s === '' || (!t.quoted && (t.text === ',' || t.text === ';')) ? word : ` ${word}`
  }
  return s
}
