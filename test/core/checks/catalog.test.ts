// The catalogue is the one list of findings: every id a check reports or the code emits is in it
// (and every entry is emitted somewhere), every entry reads as documentation, and docs/findings.md
// is its rendering.
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {catalog, finding} from '../../../src/core/checks/catalog.js'
import {explainFinding, findingSlugs} from '../../../src/render/explain.js'
import {renderFindingsDoc} from '../../../src/render/findings-doc.js'
import {serviceChecks} from '../../../src/core/checks/service-checks.js'
import {dataplaneChecks} from '../../../src/core/checks/dataplane-checks.js'
import {nodeChecks, pathChecks} from '../../../src/core/checks/trace-checks.js'
import {defined} from '../../support/defined.js'

const SRC = fileURLToPath(new URL('../../../src', import.meta.url))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  )
}

/** Every id the source passes to finding() or serviceFinding(), with the file it is in. */
function emittedIds(): Array<[string, string]> {
  return sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/\b(?:serviceFinding|finding)\(\s*'([^']+)'/g)].map((m): [string, string] => [
      defined(m[1], 'finding id'),
      path.relative(SRC, file),
    ]),
  )
}

describe('the finding catalogue', () => {
  it('holds every slug a Service check reports', () => {
    expect(Object.keys(serviceChecks).filter((slug) => !(slug in catalog))).toEqual([])
  })

  it('holds every id a path or node check reports', () => {
    const reported = [...Object.values(pathChecks), ...Object.values(nodeChecks), ...Object.values(dataplaneChecks)].flatMap((r) => [...r.reports])
    expect(reported.filter((id) => !(id in catalog))).toEqual([])
  })

  it('holds every id the source emits, and each of its entries is emitted somewhere', () => {
    const emitted = emittedIds()
    expect(emitted.filter(([id]) => !(id in catalog))).toEqual([])
    expect(Object.keys(catalog).filter((id) => !emitted.some(([e]) => e === id))).toEqual([])
  })

  it('is the only place a finding gets its severity: no finding literal outside finding()', () => {
    const literals = sourceFiles(path.join(SRC, 'core')).filter(
      (f) => !f.endsWith('catalog.ts') && /\bseverity: '(error|warning|info)'/.test(readFileSync(f, 'utf8')),
    )
    expect(literals.map((f) => path.relative(SRC, f))).toEqual([])
  })

  it('finding() takes the severity from the entry, or the lowered one the entry declares', () => {
    expect(finding('trace-uncertain', {message: 'm', node: 'a'})).toEqual({
      id: 'trace-uncertain',
      severity: 'info',
      message: 'm',
      node: 'a',
      fix: {text: catalog['trace-uncertain'].fix},
    })
    expect(finding('traffic-dropped', {message: 'm'}, 'info').severity).toBe('info')
    // @ts-expect-error no-ready-pods declares no lowered severity, so no override type-checks.
    expect(finding('no-ready-pods', {message: 'm'}, 'info').severity).toBe('info')
    const order = {error: 0, warning: 1, info: 2}
    for (const [slug, entry] of Object.entries(catalog)) {
      if ('lowered' in entry) expect(order[entry.lowered], `${slug} lowered below ${entry.severity}`).toBeGreaterThan(order[entry.severity])
    }
  })

  it.each(Object.entries(catalog))('%s is a slug with a title, a why and a fix', (slug, entry) => {
    expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/)
    expect(['error', 'warning', 'info']).toContain(entry.severity)
    expect(entry.title).not.toMatch(/\.$/)
    expect(entry.why).toMatch(/\S.*[.)]$/s)
    expect(entry.fix).toMatch(/\S.*[.)]$/s)
  })
})

describe('explainFinding', () => {
  it('renders one entry as text', () => {
    expect(explainFinding('external-name-is-ip')).toBe(
      [
        'external-name-is-ip (error): An ExternalName holds an IP address',
        '',
        'Why:',
        '  An ExternalName Service is a DNS CNAME; a CNAME names a host, so "203.0.113.7"',
        '  is looked up as a name and does not resolve (some clients get NXDOMAIN, some',
        '  the raw string).',
        '',
        'Fix:',
        '  Use a Service without a selector plus an EndpointSlice (or Endpoints) holding',
        '  the IP, or put a DNS name in externalName.',
      ].join('\n'),
    )
  })

  it('knows every slug and nothing else', () => {
    expect(findingSlugs()).toEqual(Object.keys(catalog))
    expect(explainFinding('no-such-finding')).toBeUndefined()
    expect(explainFinding('toString')).toBeUndefined()
  })
})

describe('docs/findings.md', () => {
  it('is the rendering of the catalogue', () => {
    const file = fileURLToPath(new URL('../../../docs/findings.md', import.meta.url))
    let committed = ''
    try {
      committed = readFileSync(file, 'utf8')
    } catch {
      // Missing counts as stale; the message below says how to make it.
    }
    expect(committed, 'docs/findings.md is stale: run npm run build && node scripts/gen-findings-doc.js').toBe(renderFindingsDoc())
  })

  it('has a section for every slug', () => {
    const doc = renderFindingsDoc()
    for (const slug of Object.keys(catalog)) expect(doc).toContain(`\n## ${slug}\n`)
  })
})
