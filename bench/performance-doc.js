// docs/performance.md is written by the benches: each owns a section (`## …`) and replaces only its
// own subsections (`### …`), so a bench run updates its figures and leaves the others as they are.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Where the block that starts at the line `heading` ends (before the next line matching `next`, or at the end of `text`); undefined when there is no such line. */
function blockAt(text, heading, next) {
  const start = text.search(new RegExp(`^${escapeRe(heading)}$`, 'm'))
  if (start < 0) return undefined
  const n = text.slice(start + heading.length).search(next)
  return {start, end: n < 0 ? text.length : start + heading.length + n}
}

/** `text` with `block` in place of the block at `at` (blockAt), a blank line before what follows. */
function replaceAt(text, at, block) {
  return `${text.slice(0, at.start)}${block.trimEnd()}\n${at.end < text.length ? `\n${text.slice(at.end)}` : ''}`
}

/**
 * Replaces (or appends) the subsection `### TITLE` of the section `section` (`## …`) of
 * docs/performance.md; other subsections and sections are left as they are.
 */
export function writePerformanceDoc(root, section, title, body) {
  const file = path.join(root, 'docs/performance.md')
  const old = existsSync(file)
    ? readFileSync(file, 'utf8')
    : 'Figures measured by the benches in bench/ (`npm run bench`); each section says the command that produced it.\n'
  const sub = `### ${title}\n\n${body.trimEnd()}\n`
  const at = blockAt(old, section, /^## /m)
  if (at === undefined) {
    writeFileSync(file, `${old.trimEnd()}\n\n${section}\n\n${sub}`)
    return
  }
  const part = old.slice(at.start, at.end)
  const subAt = blockAt(part, `### ${title}`, /^#{2,3} /m)
  writeFileSync(file, replaceAt(old, at, subAt ? replaceAt(part, subAt, sub) : `${part.trimEnd()}\n\n${sub}`))
}
