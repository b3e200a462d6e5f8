// Where each item of a bundle's v1 List sits in the file, found without parsing the items: a trace of
// one Service parses only the items it can need (bundle/query-items.ts), so a 10,000-Service
// cluster.json costs a pass over its bytes instead of an object for everything in it. Anything these scanners do
// not recognise returns undefined, and the reader parses the whole file as before.

/** One item of the List: its bytes [start, end) and, when it could be read without parsing, its kind. */
export interface ItemSpan {
  start: number
  end: number
  kind?: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_BRACE = 0x7b
const ITEMS = Buffer.from('"items"')
const KIND = Buffer.from('"kind"')

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

/**
 * The index of the quote that ends the string opened at `open`, or -1. Most of a file is inside strings:
 * this small loop is what V8 optimises first (a big function's loop is left to the interpreter longer).
 */
function stringEnd(bytes: Buffer, open: number): number {
  const n = bytes.length
  for (let i = open + 1; i < n; i++) {
    const b = bytes[i]
    if (b === 0x5c) i++
    else if (b === 0x22) return i
  }
  return -1
}

/** The first byte at or after `i` that is not JSON whitespace. */
function skipSpace(bytes: Buffer, i: number): number {
  while (isSpace(bytes[i])) i++
  return i
}

/**
 * The items of a JSON v1 List (`{"kind": "List", "items": [{…}, …]}`, compact or indented as kubectl
 * writes it): undefined when the top level is not an object with an "items" array of objects, when
 * the brackets do not balance, or when the file ends early. The kind is the item's own top-level
 * "kind" string, when it has no escapes.
 */
export function jsonListItems(bytes: Buffer): ItemSpan[] | undefined {
  const items: ItemSpan[] = []
  const n = bytes.length
  let i = skipSpace(bytes, 0)
  if (bytes[i] !== OPEN_BRACE) return undefined
  // depth 1: the List object; 2: inside "items" (or another top-level value); 3: an item's own fields.
  let depth = 1
  let inItems = false
  let item: ItemSpan | undefined
  let lastString = -1
  let lastStringEnd = -1
  let kindKey = false
  for (i++; i < n; i++) {
    const b = bytes[i]!
    if (b === QUOTE) {
      // An item that is a string: not a List of Kubernetes objects.
      if (depth === 2 && inItems) return undefined
      const end = stringEnd(bytes, i)
      if (end < 0) return undefined
      if (depth === 3 && item) {
        if (bytes[skipSpace(bytes, end + 1)] === COLON) kindKey = end - i === 5 && bytes.compare(KIND, 0, 6, i, end + 1) === 0
        else if (kindKey) {
          const value = bytes.subarray(i + 1, end)
          if (!value.includes(BACKSLASH)) item.kind = value.toString('latin1')
          kindKey = false
        }
      }
      lastString = i
      lastStringEnd = end
      i = end
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      depth++
      if (depth === 2 && b === OPEN_BRACKET) {
        inItems = lastStringEnd - lastString === 6 && bytes.compare(ITEMS, 0, 7, lastString, lastStringEnd + 1) === 0
      } else if (depth === 3 && inItems) {
        if (b !== OPEN_BRACE) return undefined
        item = {start: i, end: -1}
        kindKey = false
      }
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      if (depth === 3 && item) {
        item.end = i + 1
        items.push(item)
        item = undefined
      }
      depth--
      if (depth === 0) return skipSpace(bytes, i + 1) >= n ? items : undefined
      if (depth === 1) inItems = false
    } else if (depth === 2 && inItems && b !== COMMA && !isSpace(b)) {
      // An item that is a number or a literal.
      return undefined
    }
  }
  return undefined
}

const NEWLINE = 0x0a
const SPACE = 0x20

/** `key: value` on one line, value plain or quoted: the value when it is a plain word (a kind), else undefined. */
function scalarOf(line: string, key: string): string | undefined {
  if (!line.startsWith(`${key}:`)) return undefined
  const value = line
    .slice(key.length + 1)
    .trim()
    .replace(/^(['"])(.*)\1$/, '$2')
  return /^[A-Za-z][A-Za-z0-9]*$/.test(value) ? value : undefined
}

/**
 * The items of a YAML v1 List in block style, as kubectl (items at column 0) and `--capture` (items
 * indented by two) write it:
 *
 *   apiVersion: v1
 *   items:
 *   - apiVersion: v1
 *     kind: Service
 *   kind: List
 *
 * Items are the `- ` lines at the first item's indentation after `items:`, up to the next top-level
 * key. Undefined for anything else (flow style, several documents, a tab, a line less indented than
 * an item's fields). The kind is read from the item's `kind:` line at its fields' indentation.
 */
export function yamlListItems(bytes: Buffer): ItemSpan[] | undefined {
  const items: ItemSpan[] = []
  let state: 'before' | 'first' | 'in' | 'after' = 'before'
  let dash = 0
  let item: ItemSpan | undefined
  const close = (at: number) => {
    if (item) items.push({...item, end: at})
    item = undefined
  }
  for (let start = 0; start < bytes.length;) {
    const nl = bytes.indexOf(NEWLINE, start)
    const end = nl < 0 ? bytes.length : nl + 1
    let indent = 0
    while (bytes[start + indent] === SPACE) indent++
    const first = bytes[start + indent]
    const blank = first === NEWLINE || first === 0x0d || first === undefined || first === 0x23
    const isDash = first === 0x2d && (bytes[start + indent + 1] === SPACE || bytes[start + indent + 1] === NEWLINE || bytes[start + indent + 1] === 0x0d)
    if (blank) {
      // A blank line or a comment.
    } else if ((state === 'first' || state === 'in') && isDash && (state === 'first' || indent === dash)) {
      // A new item.
      close(start)
      if (state === 'first') dash = indent
      state = 'in'
      item = {start, end: -1}
      const kind = scalarOf(bytes.toString('latin1', start + indent + 2, end).trimEnd(), 'kind')
      if (kind) item.kind = kind
    } else if (state === 'in' && indent >= dash + 2) {
      // The item's own lines: only its kind is looked at.
      if (item && item.kind === undefined && indent === dash + 2) {
        const kind = scalarOf(bytes.toString('latin1', start + indent, end).trimEnd(), 'kind')
        if (kind) item.kind = kind
      }
    } else if (indent === 0) {
      // A top-level key: ends the items list (a document marker, a tab or anything else is not read here).
      close(start)
      const line = bytes.toString('latin1', start, end).trimEnd()
      if (!/^[A-Za-z][A-Za-z0-9]*:/.test(line)) return undefined
      if (line === 'items:' || line === 'items: []') {
        if (state !== 'before') return undefined
        state = line === 'items:' ? 'first' : 'after'
      } else if (state !== 'before') {
        state = 'after'
      }
    } else if (state === 'first' || state === 'in') {
      // Indented less than an item's fields: not the layout read here.
      return undefined
    }
    // Other indented lines belong to top-level keys other than items (metadata:): not looked at.
    start = end
  }
  close(bytes.length)
  return state === 'before' ? undefined : items
}
