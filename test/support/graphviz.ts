// Graphviz's `dot`, the real renderer of -o dot. Outside CI a machine without it skips the suites
// that need it, saying why; in CI (which installs the Debian package graphviz) a missing dot fails.
import {spawnSync} from 'node:child_process'
import {isCI} from './netns.js'

const probe = spawnSync('dot', ['-V'], {encoding: 'utf8'})
const reason = probe.error || probe.status !== 0 ? 'Graphviz `dot` is not installed (Debian package graphviz)' : undefined
if (reason && !isCI()) console.warn(`skipping the Graphviz rendering tests: ${reason}`)

/** True when the suites that run `dot` must be skipped (no dot, and not in CI). */
export const noGraphviz = reason !== undefined && !isCI()

/** `dot -Tsvg` of the source; throws with dot's message when it does not render. */
export function renderSvg(source: string): string {
  if (reason) throw new Error(reason)
  const r = spawnSync('dot', ['-Tsvg'], {input: source, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000})
  if (r.error) throw r.error
  if (r.status !== 0 || r.stderr.trim() !== '') throw new Error(`dot -Tsvg failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

const XML_ENTITY: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"}

/** The text of every <text> element of an SVG, XML entities decoded. */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) =>
    (m[1] ?? '').replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (all, e: string) =>
      e.startsWith('#x')
        ? String.fromCodePoint(parseInt(e.slice(2), 16))
        : e.startsWith('#')
          ? String.fromCodePoint(Number(e.slice(1)))
          : (XML_ENTITY[e] ?? all),
    ),
  )
}
