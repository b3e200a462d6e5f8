import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'
import fc from 'fast-check'
import {hanging, layRow, lineUp, lineUpAscii, lineUpTable3, table, wrap} from '../../src/render/layout.js'

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

describe('lining up without cli-table3 where widths are lengths', () => {
  const c = new Chalk({level: 1})
  const lay = (rows: Array<Array<{text: string; paint?: (l: string, i: number) => string}>>, widths: number[]) => rows.map((r) => layRow(r, widths))
  it.each([
    [
      'one line per cell',
      [
        [{text: 'a'}, {text: 'bb'}],
        [{text: 'ccc'}, {text: ''}],
      ],
      [3, 2],
    ],
    ['a cell of several lines, the others padded below', [[{text: 'x'}, {text: 'one two three'}, {text: 'z'}]], [1, 5, 1]],
    [
      'painted lines, the paint told each line index',
      [[{text: 'DNAT OK now', paint: (l: string, i: number) => (i === 0 ? c.green(l) : c.red(l))}, {text: 'y'}]],
      [7, 1],
    ],
    [
      'an empty last column',
      [
        [{text: 'a'}, {text: ''}],
        [{text: 'b'}, {text: ''}],
      ],
      [1, 0],
    ],
    ['a row shorter than the others', [[{text: 'a'}], [{text: 'b'}, {text: 'c'}]], [1, 1]],
  ])('%s: the same lines as cli-table3', (_name, rows, widths) => {
    const laid = lay(rows, widths)
    expect(lineUpAscii(laid, widths)).toEqual(lineUpTable3(laid, widths))
  })

  it('any printable ASCII table: the same lines as cli-table3', () => {
    const text = fc.stringMatching(/^[ -~]{0,12}$/)
    const rows = fc.array(fc.array(fc.record({text, painted: fc.boolean()}), {minLength: 1, maxLength: 4}), {minLength: 1, maxLength: 6})
    fc.assert(
      fc.property(rows, fc.integer({min: 1, max: 12}), (cells, width) => {
        const count = Math.max(...cells.map((r) => r.length))
        // Widths as table() picks them: never below a column's longest word, so no line overflows.
        const widths = Array.from({length: count}, (_, i) =>
          Math.max(width, ...cells.map((r) => Math.max(0, ...(r[i]?.text ?? '').split(/[\n ]/).map((w) => w.length)))),
        )
        const laid = lay(
          cells.map((r) => r.map(({text, painted}) => (painted ? {text, paint: (l: string) => c.bold(l)} : {text}))),
          widths,
        )
        expect(lineUpAscii(laid, widths)).toEqual(lineUpTable3(laid, widths))
      }),
      {numRuns: 300},
    )
  })

  it('leaves wide characters to cli-table3, which counts their columns', () => {
    const widths = [4, 1]
    const laid = lay(
      [
        [{text: '日本'}, {text: 'x'}],
        [{text: 'ab'}, {text: 'y'}],
      ],
      widths,
    )
    expect(lineUpAscii(laid, widths)).toBeUndefined()
    expect(lineUp(laid, widths)).toEqual(['日本  x', 'ab    y'])
  })

  it('leaves a line longer than its column to cli-table3 (which cuts it with an ellipsis)', () => {
    const widths = [3]
    const laid = lay([[{text: 'abcdef'}]], widths)
    expect(lineUpAscii(laid, widths)).toBeUndefined()
    expect(lineUp(laid, widths)).toEqual(lineUpTable3(laid, widths))
  })
})
