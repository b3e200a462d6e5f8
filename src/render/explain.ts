// `--explain SLUG`: one catalogue entry as plain text.
import {catalog, type CatalogEntry} from '../core/checks/catalog.js'

/** Breaks a paragraph into lines of at most `width` characters, each indented. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - indent.length) {
      lines.push(indent + line)
      line = word
    } else {
      line = line ? `${line} ${word}` : word
    }
  }
  if (line) lines.push(indent + line)
  return lines.join('\n')
}

/**
 * One finding kind as text, or undefined for an unknown slug:
 *   selector-matches-no-pods (error): The selector matches no pods
 *
 *   Why: …
 *   Fix: …
 */
export function explainFinding(slug: string): string | undefined {
  if (!Object.hasOwn(catalog, slug)) return undefined
  const entry: CatalogEntry = catalog[slug as keyof typeof catalog]
  return [`${slug} (${entry.severity}): ${entry.title}`, '', 'Why:', wrap(entry.why, 80, '  '), '', 'Fix:', wrap(entry.fix, 80, '  ')].join('\n')
}

/** Every slug, for "unknown slug; known: …" messages. */
export function findingSlugs(): string[] {
  return Object.keys(catalog)
}
