// docs/findings.md, rendered from the catalogue (scripts/gen-findings-doc.js writes it; a test
// fails when the file is stale).
import {catalog, type CatalogEntry} from '../core/checks/catalog.js'

const order = {error: 0, warning: 1, info: 2}

/** The Markdown of docs/findings.md: an index table, then a section per slug. */
export function renderFindingsDoc(): string {
  const entries = Object.entries(catalog) as Array<[string, CatalogEntry]>
  const out = [
    '# Findings',
    '',
    '<!-- Generated from src/core/checks/catalog.ts by `npm run build && node scripts/gen-findings-doc.js`; do not edit. -->',
    '',
    'Every finding svctrace reports, by its id (the slug that ends each finding line of the table output, and `id` in `-o json`).',
    '`kubectl svctrace --explain SLUG` prints one entry. A finding may be reported below its usual severity where its',
    'section says so; `--fail-on` compares the severity reported.',
    '',
    '| Finding | Severity | What it means |',
    '|---|---|---|',
    ...entries.map(([slug, e]) => `| [\`${slug}\`](#${slug}) | ${e.severity} | ${e.title} |`),
    '',
    `Severities: ${Object.keys(order)
      .map((s) => `${s} ${entries.filter(([, e]) => e.severity === s).length}`)
      .join(', ')}.`,
  ]
  for (const [slug, e] of entries) {
    out.push('', `## ${slug}`, '', `**${e.severity}** — ${e.title}`, '', `**Why.** ${e.why}`, '', `**Fix.** ${e.fix}`)
  }
  return `${out.join('\n')}\n`
}
