// A dump indexed from a ByteSource (a bundle's file left where it lies) is the dump indexed from its
// bytes: the same chains, rules, line numbers and errors, whatever size of buffer the pass streams it
// through; and a chain's rules are read only when a trace first asks for them.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {chainView, DumpError, formatIptablesSave, indexIptablesSave} from '../../../src/core/iptables/dump.js'
import type {ByteSource} from '../../../src/core/model.js'

const SAMPLES = path.resolve(__dirname, '../../fixtures/samples')
const samples = readdirSync(SAMPLES).filter((f) => f.startsWith('iptables-') && f.endsWith('.txt'))

/** A ByteSource over `bytes` that counts what it is asked to read. */
function sourceOf(bytes: Uint8Array): ByteSource & {reads: number; bytesRead: number} {
  return {
    size: bytes.length,
    reads: 0,
    bytesRead: 0,
    read(into, position) {
      const part = bytes.subarray(position, position + into.length)
      into.set(part)
      this.reads++
      this.bytesRead += part.length
      return part.length
    },
  }
}

const encode = (text: string) => new TextEncoder().encode(text)

/** The DumpError indexing throws, as {line, message}, or 'indexed'. */
function outcome(index: () => unknown): {line: number; message: string} | 'indexed' {
  try {
    index()
    return 'indexed'
  } catch (err) {
    if (!(err instanceof DumpError)) throw err
    return {line: err.line, message: err.message}
  }
}

describe('a dump streamed from a ByteSource', () => {
  it('finds the samples', () => {
    expect(samples.length).toBeGreaterThan(10)
  })

  // 1 byte: every line is longer than the buffer, which grows; 7 and 64: lines straddle reads.
  it.each(samples.flatMap((f) => [1, 7, 64, 1 << 20].map((chunkBytes) => [f, chunkBytes] as const)))('%s through %i bytes', (file, chunkBytes) => {
    const text = readFileSync(path.join(SAMPLES, file), 'utf8')
    const whole = indexIptablesSave(text, file)
    const streamed = indexIptablesSave(sourceOf(encode(text)), file, {chunkBytes})
    expect(streamed.ruleCount).toBe(whole.ruleCount)
    expect(Array.from(streamed.ruleLine.subarray(0, streamed.ruleCount))).toEqual(Array.from(whole.ruleLine.subarray(0, whole.ruleCount)))
    expect(formatIptablesSave(streamed)).toBe(formatIptablesSave(whole))
  })

  it('reads no rule until a chain is walked, then that chain alone, once', () => {
    const text = readFileSync(path.join(SAMPLES, 'iptables-1.26-clusterip-three-endpoints.txt'), 'utf8')
    const source = sourceOf(encode(text))
    const dump = indexIptablesSave(source, 'sample', {chunkBytes: 256})
    const indexing = source.bytesRead
    expect(indexing).toBe(text.length)
    // Only declarations (and what follows them in the same block) were kept from the pass.
    const svc = [...text.matchAll(/^-A (KUBE-SVC-\S+) /gm)].map((m) => m[1]!)[0]!
    const rules = text.split('\n').filter((l) => l.startsWith(`-A ${svc} `))
    expect(rules.length).toBeGreaterThan(2)
    const view = chainView(dump, 'nat', svc)!
    expect(source.bytesRead - indexing).toBe(rules.join('\n').length)
    expect(Array.from({length: view.length}, (_, k) => view.text(k))).toEqual(rules)
    const after = source.bytesRead
    chainView(dump, 'nat', svc)
    dump.tables.get('nat')!.tracesDone()
    chainView(dump, 'nat', svc)?.text(0)
    expect(source.bytesRead).toBe(after)
  })

  it.each([
    ['a rule outside any table', '-A KUBE-SERVICES -j ACCEPT\n'],
    ['a declaration outside any table', ':KUBE-SERVICES - [0:0]\n'],
    ['malformed counters', '*nat\n:KUBE-SERVICES - [0:0]\n[12:720 -A KUBE-SERVICES -j ACCEPT\nCOMMIT\n'],
    ['not -A', '*nat\n:KUBE-SERVICES - [0:0]\n-I KUBE-SERVICES -j ACCEPT\nCOMMIT\n'],
    ['no COMMIT before the next table', '*nat\n:A - [0:0]\n*filter\nCOMMIT\n'],
    ['no COMMIT at the end', '*nat\n:A - [0:0]\n-A A -j ACCEPT'],
    ['an unexpected line', '*nat\n:A - [0:0]\nhello world\nCOMMIT\n'],
    ['nothing', ''],
    ['a rule of an undeclared chain, CRLF', '*nat\r\n:A - [0:0]\r\n-A B -j ACCEPT\r\n-A A -j B\r\nCOMMIT\r\n'],
  ])('%s: the same error (or dump) as from the bytes', (_, text) => {
    const whole = outcome(() => indexIptablesSave(text, 'dump'))
    for (const chunkBytes of [1, 5, 1 << 20]) expect(outcome(() => indexIptablesSave(sourceOf(encode(text)), 'dump', {chunkBytes}))).toEqual(whole)
  })

  it('an undeclared chain read in place has its rules', () => {
    const dump = indexIptablesSave(sourceOf(encode('*nat\n:A - [0:0]\n-A B -j ACCEPT\n-A A -j B\nCOMMIT\n')), 'dump', {chunkBytes: 3})
    expect(chainView(dump, 'nat', 'B')?.text(0)).toBe('-A B -j ACCEPT')
    expect(chainView(dump, 'nat', 'A')?.text(0)).toBe('-A A -j B')
  })

  it("reads a chain whose rules are apart in the file (restore input) into one array, each rule's own text", () => {
    const text = '*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j ACCEPT\n-A B -j DROP\n-A A -m comment --comment "x y" -j RETURN\n-A A -j DROP\nCOMMIT\n'
    const source = sourceOf(encode(text))
    const dump = indexIptablesSave(source, 'dump', {chunkBytes: 5})
    const read = source.reads
    const a = chainView(dump, 'nat', 'A')!
    // Two runs of A's rules: two reads.
    expect(source.reads - read).toBe(2)
    expect(Array.from({length: a.length}, (_, k) => a.text(k))).toEqual(['-A A -j B', '-A A -m comment --comment "x y" -j RETURN', '-A A -j DROP'])
    expect(a.mentions(1, 'x y')).toBe(true)
    expect(a.mentions(0, 'x y')).toBe(false)
    const b = chainView(dump, 'nat', 'B')!
    expect(Array.from({length: b.length}, (_, k) => b.text(k))).toEqual(['-A B -j ACCEPT', '-A B -j DROP'])
    expect(formatIptablesSave(dump)).toBe(formatIptablesSave(indexIptablesSave(text, 'dump')))
  })

  it('says so when the file changed after it was indexed', () => {
    const text = '*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j ACCEPT\nCOMMIT\n'
    const bytes = encode(text)
    const dump = indexIptablesSave(sourceOf(bytes), 'nodes/n1/iptables-save.txt', {chunkBytes: 8})
    // The file is rewritten with a longer first rule: B's rule is no longer where it was.
    bytes.set(encode('-A A -j BB\n-A B -j ACCEPT'), text.indexOf('-A A'))
    expect(() => chainView(dump, 'nat', 'B')).toThrow(
      new DumpError('nodes/n1/iptables-save.txt', 5, 'the file changed while it was being read; run the trace again'),
    )
  })

  it('says so when the file cannot be read', () => {
    const failing: ByteSource = {
      size: 100,
      read() {
        throw new Error('EIO: i/o error, read')
      },
    }
    expect(() => indexIptablesSave(failing, 'nodes/n1/iptables-save.txt')).toThrow(
      new DumpError('nodes/n1/iptables-save.txt', 0, 'cannot read it (EIO: i/o error, read)'),
    )
  })
})
