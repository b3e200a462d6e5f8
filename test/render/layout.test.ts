import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'
import {hanging, table, wrap} from '../../src/render/layout.js'

describe('wrap', () => {
  it.each([
    ['short stays', 'a b c', 10, ['a b c']],
    ['breaks at spaces', 'alpha beta gamma', 11, ['alpha beta', 'gamma']],
    ['a word longer than the width runs over whole', 'x KUBE-SVC-NOIMA57NP5B3VMDZ y', 10, ['x', 'KUBE-SVC-NOIMA57NP5B3VMDZ', 'y']],
    ['keeps newlines', 'a\nb', 10, ['a', 'b']],
  ])('%s', (_name, text, width, lines) => {
    expect(wrap(text, width)).toEqual(lines)
  })
})

describe('hanging', () => {
  it('indents continuation lines under the text, not the prefix', () => {
    expect(hanging('  ERROR  ', 'one two three four', 20)).toEqual(['  ERROR  one two', '         three four'])
  })
})

describe('table', () => {
  const cells = (...texts: string[]) => texts.map((text) => ({text}))
  it('pads columns to their widest cell and trims line ends', () => {
    expect(table(cells('A', 'B'), [cells('xx', 'y'), cells('x', 'yyy')], 80)).toEqual(['A   B', 'xx  y', 'x   yyy'])
  })
  it('shrinks the widest column to fit, wrapping its cells at spaces', () => {
    const lines = table(cells('ENTRY', 'VERDICT'), [cells('load balancer 192.168.49.240:443/TCP', 'DROP')], 30)
    expect(lines).toEqual(['ENTRY                   VERDICT', 'load balancer           DROP', '192.168.49.240:443/TCP'])
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(31)
  })
  it('never cuts a word to fit', () => {
    const lines = table(cells('CHAIN'), [cells('KUBE-SVC-NOIMA57NP5B3VMDZ')], 10)
    expect(lines).toContain('KUBE-SVC-NOIMA57NP5B3VMDZ')
  })
  it('paints each wrapped line of a cell after layout, so colour codes take no width', () => {
    const c = new Chalk({level: 1})
    const lines = table(cells('V', 'X'), [[{text: 'DNAT OK', paint: (l) => c.green(l)}, {text: 'y'}]], 7)
    expect(lines).toEqual(['V     X', `${c.green('DNAT')}  y`, c.green('OK')])
  })
})

describe('a table of thousands of rows', () => {
  it('lines up every row as one table does, however many blocks it is laid out in', () => {
    const rows = Array.from({length: 1001}, (_, i) => [{text: `svc-${i}`}, {text: i % 7 === 0 ? 'broken' : 'ok'}, {text: 'x'.repeat(i % 13)}])
    const lines = table([{text: 'SERVICE'}, {text: 'VERDICT'}, {text: 'NOTE'}], rows, 200)
    expect(lines).toHaveLength(1002)
    // Column starts come from the widest cell of all rows: svc-1000 (8) + 2, then "broken" (7, the header) + 2.
    expect(lines[0]).toBe('SERVICE   VERDICT  NOTE')
    expect(lines[1000]).toBe('svc-999   ok       xxxxxxxxxxx') // 999 % 13 = 11
    expect(lines[1001]).toBe('svc-1000  ok       xxxxxxxxxxxx') // 1000 % 13 = 12
    for (const [i, line] of lines.slice(1).entries())
      expect(line.slice(0, 17).trimEnd(), `row ${i}`).toBe(`${`svc-${i}`.padEnd(8)}  ${i % 7 === 0 ? 'broken' : 'ok'}`)
  })
})

describe('wrap at a double space', () => {
  it('leaves no space at the end of a line', () => {
    expect(wrap('NodePort  cluster IP 10.96.20.20  externalTrafficPolicy Local', 40)).toEqual([
      'NodePort  cluster IP 10.96.20.20',
      'externalTrafficPolicy Local',
    ])
  })
})
