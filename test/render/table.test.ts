// The table renderer on reports of the two-node capture: what it prints once, and how it colours.
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import type {Report} from '../../src/core/model.js'
import {catalog} from '../../src/core/checks/catalog.js'
import {buildReport} from '../../src/core/report.js'
import {interruptedNode} from '../../src/core/captures.js'
import {renderTable, renderTablePieces} from '../../src/render/table.js'

const capture = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))

async function onCapture(query: Report['query']): Promise<Report> {
  const bundle = new BundleDir(capture)
  const {view} = await bundle.load()
  return buildReport(query, view, await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n))))
}

// eslint-disable-next-line no-control-regex
const CYAN_DROP = /\u001b\[36mDROP/
// eslint-disable-next-line no-control-regex
const RED_DROP = /\u001b\[31mDROP/
// eslint-disable-next-line no-control-regex
const YELLOW_DROP = /\u001b\[33mDROP/

describe('renderTable', () => {
  it('paints a DROP row like the finding about it: info for an assumed client outside the source ranges', async () => {
    const text = renderTable(await onCapture({kind: 'service', namespace: 'storefront', service: 'gateway'}), {color: true, wide: false})
    expect(text).toMatch(CYAN_DROP)
    expect(text).not.toMatch(RED_DROP)
  })

  it('paints the DROP row of the --source client as a warning, like its finding', async () => {
    const text = renderTable(await onCapture({kind: 'service', namespace: 'storefront', service: 'gateway', source: '8.8.8.8'}), {color: true, wide: false})
    expect(text).toMatch(YELLOW_DROP)
    expect(text).not.toMatch(RED_DROP)
  })

  it('shows session affinity once, in the findings', async () => {
    const text = renderTable(await onCapture({kind: 'service', namespace: 'storefront', service: 'sessions'}), {color: false, wide: false})
    const [paths, findings] = text.split('FINDINGS')
    expect(paths).not.toMatch(/affinity/i)
    expect(findings?.match(/ClientIP session affinity/g)).toHaveLength(1)
  })

  it('ends each finding with its fix, and the command on a line of its own', async () => {
    // Wide enough that nothing wraps: one line each.
    const text = renderTable(await onCapture({kind: 'service', namespace: 'storefront', service: 'cache'}), {color: false, wide: false, width: 400})
    const lines = text.split('\n')
    const at = lines.findIndex((l) => l.includes('(selector-matches-no-pods)'))
    const fix = lines.findIndex((l, i) => i > at && l.trimStart().startsWith('fix: '))
    expect(lines.slice(at + 1, fix).every((l) => l.trimStart().startsWith('· '))).toBe(true)
    expect(lines[fix]?.trim()).toBe(`fix: ${catalog['selector-matches-no-pods'].fix}`)
    expect(lines[fix + 1]?.trim()).toBe(`kubectl -n storefront patch service cache --type merge -p '{"spec":{"selector":{"tier":"backend"}}}'`)
  })

  it('at 80 columns the command breaks with a backslash, so the lines still paste as one command', async () => {
    const text = renderTable(await onCapture({kind: 'service', namespace: 'storefront', service: 'cache'}), {color: false, wide: false, width: 80})
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80)
    expect(text).toMatch(/kubectl -n storefront patch service cache --type merge -p \\\n {2,}'\{"spec":\{"selector":\{"tier":"backend"\}\}\}'/)
  })
})

describe('renderTablePieces', () => {
  it("check mode comes in pieces, a Service's findings at a time, that make up the table", async () => {
    const report = await onCapture({kind: 'all'})
    const style = {color: false, wide: false, width: 80}
    const pieces = [...renderTablePieces(report, style)]
    const services = new Set(report.findings.filter((f) => f.severity !== 'info').map((f) => f.service ?? ''))
    expect(services.size).toBeGreaterThan(3)
    // the table, then FINDINGS, then one piece per Service with findings, then the totals (with the separators between)
    expect(pieces.filter((p) => /^\n {2}\S/.test(p))).toHaveLength(services.size)
    expect(pieces.join('')).toBe(renderTable(report, style))
    expect(pieces.join('')).toMatch(/^\d+ Services in all namespaces;[^]*\nFINDINGS\n {2}\S[^]*\n\d+ Services?: [^\n]*\n$/)
  })

  it('one Service is one piece', async () => {
    const report = await onCapture({kind: 'service', namespace: 'storefront', service: 'frontend'})
    expect([...renderTablePieces(report, {color: false, wide: false, width: 80})].filter(Boolean)).toHaveLength(1)
  })
})

describe('a partial report (interrupted before node2 answered)', () => {
  async function interrupted(query: Report['query']): Promise<Report> {
    const bundle = new BundleDir(capture)
    const {view} = await bundle.load()
    return buildReport(query, view, [await bundle.read('node1'), interruptedNode('node2')])
  }
  const banner = 'PARTIAL: the run was interrupted before node2 answered; what follows is what the other 1 node showed.'
  const firstParagraph = (text: string) => text.split('\n\n')[0]?.replace(/\n/g, ' ')

  it.each([
    ['one Service', {kind: 'service', namespace: 'storefront', service: 'frontend'}, false],
    ['one Service, wide', {kind: 'service', namespace: 'storefront', service: 'frontend'}, true],
    ['check mode', {kind: 'all'}, false],
  ] as const)('%s: the PARTIAL line comes first, and node2 is a not-traced row without a node-unreadable finding', async (_, query, wide) => {
    const report = await interrupted(query)
    const text = renderTable(report, {color: false, wide, width: 80})
    expect(firstParagraph(text)).toBe(banner)
    expect(text).not.toMatch(/node-unreadable/)
    expect(report.partial).toEqual({reason: 'interrupted', nodes: ['node2']})
  })

  it('a complete report has no such line', async () => {
    const text = renderTable(await onCapture({kind: 'service', namespace: 'storefront', service: 'frontend'}), {color: false, wide: false, width: 80})
    expect(text).not.toMatch(/PARTIAL/)
  })
})
