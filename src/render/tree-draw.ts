// Draws a tree of text nodes with box-drawing characters (UTF-8) or ASCII, each node's text
// wrapped under itself so the vertical lines of the levels around it stay unbroken.
import {wrap} from './layout.js'
import {clean} from './style.js'

/** One line of the tree and what hangs under it; `paint` colours the text (after it was made inert). */
export interface TreeNode {
  text: string
  paint?: (text: string) => string
  children: TreeNode[]
}

interface Glyphs {
  branch: string
  last: string
  pipe: string
  /** The node's text as printed: clean, and in ASCII when the terminal is not UTF-8. */
  text: (text: string) => string
}

const UNICODE: Glyphs = {branch: '├── ', last: '└── ', pipe: '│   ', text: clean}
const ASCII: Glyphs = {branch: '|-- ', last: '`-- ', pipe: '|   ', text: (t) => toAscii(clean(t))}
const BLANK = '    '

// What the renderers write themselves, said in ASCII; any other non-ASCII character becomes `?`.
const ASCII_FOR: Record<string, string> = {'→': '->', '…': '...', '—': '-', '–': '-', '·': '-', '×': 'x', '≥': '>=', '≤': '<='}

/** The text in ASCII: the renderers' own arrows and dots spelled out, anything else non-ASCII as `?`. */
function toAscii(text: string): string {
  return text.replace(/[^\x20-\x7e\n]/g, (ch) => ASCII_FOR[ch] ?? '?')
}

/** Lines of one node and its children; `lead` is what the levels above put before it. */
function nodeLines(node: TreeNode, lead: string, connector: string, under: string, width: number, g: Glyphs): string[] {
  const paint = node.paint ?? ((s: string) => s)
  // Continuation lines keep the parent's line and, when children follow, the line down to them.
  const hang = lead + under + (node.children.length > 0 ? `${g.pipe.slice(0, 1)} ` : '  ')
  const pieces = wrap(g.text(node.text), Math.max(20, width - hang.length))
  const lines = pieces.map((piece, i) => `${i === 0 ? lead + connector : hang}${paint(piece)}`)
  node.children.forEach((child, i) => {
    const last = i === node.children.length - 1
    lines.push(...nodeLines(child, lead + under, last ? g.last : g.branch, last ? BLANK : g.pipe, width, g))
  })
  return lines
}

/** The tree as lines: the root flush left, each level indented four columns, text wrapped to `width`. */
export function drawTree(root: TreeNode, width: number, unicode: boolean): string[] {
  const g = unicode ? UNICODE : ASCII
  const paint = root.paint ?? ((s: string) => s)
  const lines = wrap(g.text(root.text), width).map((l) => paint(l))
  root.children.forEach((child, i) => {
    const last = i === root.children.length - 1
    lines.push(...nodeLines(child, '', last ? g.last : g.branch, last ? BLANK : g.pipe, width, g))
  })
  return lines
}
