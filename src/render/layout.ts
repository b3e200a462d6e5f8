// Text laid out to a width: word wrap with a hanging indent, and borderless kubectl-like tables whose
// columns shrink (wrapping their cells) until the table fits. Cells are plain text with an optional
// paint applied per line after wrapping, so escape codes never count toward a width or get cut.
import Table from 'cli-table3'

// kubectl-like: no borders, two spaces between columns.
const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

/** A table cell: its text (may hold newlines) and how to colour each of its lines. */
export interface Cell {
  text: string
  /** Colours one wrapped line (`index` counts the cell's lines from 0). */
  paint?: (line: string, index: number) => string
}

/** Terminal width used when none is known: kubectl's tables assume 80 columns too. */
export const DEFAULT_WIDTH = 80
/** Below this, wrapping makes text harder to read than letting it run over. */
const MIN_WIDTH = 40

/** The width to lay out to: at least MIN_WIDTH. */
export function usableWidth(width: number): number {
  return Math.max(MIN_WIDTH, Math.floor(width))
}

/** Splits one line into pieces of at most `width` characters at spaces; a word longer than the width runs over rather than being cut (names and paths stay whole). */
function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line]
  const out: string[] = []
  let current = ''
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length > width) {
      out.push(current.trimEnd())
      current = ''
    }
    current = current ? `${current} ${word}` : word
  }
  if (current || out.length === 0) out.push(current)
  return out
}

/** Wraps text (newlines kept) to `width` columns. */
export function wrap(text: string, width: number): string[] {
  return text.split('\n').flatMap((line) => wrapLine(line, Math.max(1, width)))
}

// wrap's answers for the texts laid out last, by width and text: check mode puts the same evidence, fix
// and cell texts under thousands of findings and in thousands of rows. Emptied when full.
const wrappedTexts = new Map<string, readonly string[]>()
const WRAPPED_TEXTS = 1024

/** wrap(text, width), shared with other callers asking the same: never to be changed. */
function wrapShared(text: string, width: number): readonly string[] {
  const key = `${width} ${text}`
  let lines = wrappedTexts.get(key)
  if (!lines) {
    if (wrappedTexts.size >= WRAPPED_TEXTS) wrappedTexts.clear()
    lines = wrap(text, width)
    wrappedTexts.set(key, lines)
  }
  return lines
}

/**
 * A paragraph: `first` prefixes the first line, continuation lines are indented by as many spaces,
 * and the text wraps to `width`. `paint` colours each line's text.
 */
export function hanging(first: string, text: string, width: number, paint: (s: string) => string = (s) => s): string[] {
  const pad = ' '.repeat(first.length)
  return wrapShared(text, width - first.length).map((line, i) => `${i === 0 ? first : pad}${paint(line)}`)
}

/**
 * A paragraph after a label: `label` (plain text, for the width) starts the first line and is shown
 * as `painted`; the text wraps under itself, after `indent` + the label's width.
 */
export function labelled(indent: string, label: string, painted: string, text: string, width: number): string[] {
  const lines = hanging(indent + label, text, width)
  lines[0] = `${indent}${painted}${(lines[0] ?? '').slice(indent.length + label.length)}`
  return lines
}

/** The largest of `values` (0 for none), without spreading them into arguments (a check of every Service has tens of thousands). */
function maxOf(values: Iterable<number>): number {
  let max = 0
  for (const v of values) if (v > max) max = v
  return max
}

const longestLine = (text: string) => maxOf(text.split('\n').map((l) => l.length))
const longestWord = (text: string) => maxOf(text.split(/[\n ]/).map((w) => w.length))

// cli-table3 checks every cell against every other for spans, so its time grows with the square of the
// rows: tables are laid out in blocks of this many rows, with the column widths fixed for all of them.
const ROWS_PER_BLOCK = 50

/** One row's cells as lines: wrapped to the column widths, each line with its paint. */
export interface LaidRow {
  plain: ReadonlyArray<readonly string[]>
  painted: ReadonlyArray<readonly string[]>
}

// Printable ASCII: one column per character, so a line's width is its length.
const ASCII_LINE = /^[\x20-\x7e]*$/

/**
 * The rows lined up as cli-table3 does it (each cell's lines left-aligned and padded to the column's
 * width, top-aligned in the row, `  ` between columns), for cells whose lines are printable ASCII and
 * fit: a width is then a length, and cli-table3's per-cell measuring (string-width, ANSI parsing), a
 * second per row of a 10,000-Service table, is not needed. Undefined when a cell needs cli-table3.
 */
export function lineUpAscii(rows: LaidRow[], widths: number[]): string[] | undefined {
  const out: string[] = []
  for (const {plain, painted} of rows) {
    const height = maxOf(plain.map((lines) => lines.length))
    for (let l = 0; l < height; l++) {
      let line = ''
      for (let i = 0; i < widths.length; i++) {
        const text = plain[i]?.[l] ?? ''
        // cli-table3 takes a width of 0 as "fit the content, at least 1".
        const width = Math.max(1, widths[i] ?? 0)
        if (text.length > width || !ASCII_LINE.test(text)) return undefined
        line += `${i > 0 ? '  ' : ''}${painted[i]?.[l] ?? ''}${' '.repeat(width - text.length)}`
      }
      out.push(line)
    }
  }
  return out
}

/** The rows lined up by cli-table3, in blocks of ROWS_PER_BLOCK rows. */
export function lineUpTable3(rows: LaidRow[], widths: number[]): string[] {
  const lines: string[] = []
  for (let start = 0; start < rows.length; start += ROWS_PER_BLOCK) {
    const t = new Table({chars: BORDERLESS, colWidths: widths, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}, wordWrap: false})
    for (const row of rows.slice(start, start + ROWS_PER_BLOCK)) t.push(row.painted.map((lines) => lines.join('\n')))
    lines.push(...t.toString().split('\n'))
  }
  return lines
}

/** Rows lined up, each line ending without spaces: by lineUpAscii where it can, else by cli-table3. */
export function lineUp(rows: LaidRow[], widths: number[], indent = ''): string[] {
  const lines: string[] = []
  for (let start = 0; start < rows.length; start += ROWS_PER_BLOCK) {
    const block = rows.slice(start, start + ROWS_PER_BLOCK)
    for (const line of lineUpAscii(block, widths) ?? lineUpTable3(block, widths)) lines.push(`${indent}${line}`.trimEnd())
  }
  return lines
}

/** Lays out one row: each cell wrapped to its column's width, and painted line by line. */
export function layRow(row: Cell[], widths: number[]): LaidRow {
  const plain = widths.map((width, i) => wrapShared(row[i]?.text ?? '', width))
  const painted = plain.map((lines, i) => {
    const paint = row[i]?.paint
    return paint ? lines.map((line, l) => (line ? paint(line, l) : line)) : lines
  })
  return {plain, painted}
}

/**
 * A borderless table: a header row, two spaces between columns, `indent` before each line. When the
 * natural widths overflow `width`, columns give up width (never below their longest word, so names
 * are not cut) and their cells wrap, the widest column first.
 */
export function table(head: Cell[], rows: Cell[][], width: number, indent = ''): string[] {
  const all = head.length > 0 ? [head, ...rows] : rows
  const count = maxOf(all.map((r) => r.length))
  if (count === 0) return []
  const columns = Array.from({length: count}, (_, i) => i)
  const widths = columns.map((i) => maxOf(all.map((r) => longestLine(r[i]?.text ?? ''))))
  const floors = columns.map((i) => maxOf(all.map((r) => longestWord(r[i]?.text ?? ''))))
  const total = () => indent.length + widths.reduce((a, b) => a + b, 0) + 2 * (count - 1)
  while (total() > width) {
    let widest = -1
    for (let i = 0; i < count; i++) if ((widths[i] ?? 0) > (floors[i] ?? 0) && (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0))) widest = i
    if (widest < 0) break
    widths[widest] = (widths[widest] ?? 0) - 1
  }
  // Cells arrive wrapped and painted; lineUp pads them (measuring without escape codes).
  return lineUp(
    all.map((row) => layRow(row, widths)),
    widths,
    indent,
  )
}
