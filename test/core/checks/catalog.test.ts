// The catalogue is the one list of findings: every check's slug is in it, every entry reads as
// documentation, and docs/findings.md is its rendering.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {catalog} from '../../../src/core/checks/catalog.js'
import {explainFinding, findingSlugs} from '../../../src/core/checks/explain.js'
import {renderFindingsDoc} from '../../../src/core/checks/findings-doc.js'
import {serviceChecks} from '../../../src/core/checks/service-checks.js'

describe('the finding catalogue', () => {
  it('holds every slug a Service check reports', () => {
    expect(Object.keys(serviceChecks).filter((slug) => !(slug in catalog))).toEqual([])
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
    expect(explainFinding('external-name-is-ip')).toBe([
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
    ].join('\n'))
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
