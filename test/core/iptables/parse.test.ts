import {readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {parseCidr} from '../../../src/core/address.js'
import {chainRules, chainView, DumpError, formatIptablesSave, indexIptablesSave, nextGeneration} from '../../../src/core/iptables/dump.js'
import {formatRule, parseRuleLine, type Rule} from '../../../src/core/iptables/rule.js'
import {first} from '../../support/defined.js'

const samples = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url))
const rendered = samples + 'rendered/'

function allRules(text: string, name = 'dump'): Rule[] {
  const dump = indexIptablesSave(text, name)
  const out: Rule[] = []
  for (const t of dump.tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of chainRules(dump, t.name, c.name)!) {
        if ('error' in r) throw new Error(`${name}:${r.line}: ${r.error}`)
        out.push(r)
      }
    }
  }
  return out.sort((a, b) => a.line - b.line)
}

function rule(line: string): Rule {
  const r = parseRuleLine(line, 'nat', 1)
  if ('error' in r) throw new Error(r.error)
  return r
}

describe('iptables-save round trip', () => {
  const files = readdirSync(rendered).filter((f) => f.endsWith('.iptables-save.txt'))
  it.each(files)('%s prints back line for line', (file) => {
    const text = readFileSync(rendered + file, 'utf8')
    const lines = text.split('\n')
    const rules = allRules(text, file)
    expect(rules.length).toBeGreaterThan(5)
    for (const r of rules) expect(formatRule(r)).toBe(lines[r.line - 1])
  })

  const inputs = readdirSync(samples).filter((f) => f.endsWith('.txt'))
  it.each(inputs)('%s (restore input) parses, and its printed form parses to the same model', (file) => {
    const text = readFileSync(samples + file, 'utf8')
    const dump = indexIptablesSave(text, file)
    const again = allRules(formatIptablesSave(dump), `${file} (printed)`)
    const strip = (r: Rule) => ({chain: r.chain, matches: r.matches, target: r.target})
    expect(again.map(strip)).toEqual(allRules(text, file).map(strip))
  })
})

describe('a rule line kept as written', () => {
  const printsAsParts = (rules: Rule[]) => {
    for (const r of rules) {
      const {text, ...parts} = r
      expect(formatRule(r)).toBe(formatRule(parts))
      if (text !== undefined) expect(formatRule(parts)).toBe(r.counters ? `${r.counters} ${text}` : text)
    }
  }
  it.each(readdirSync(samples).filter((f) => f.endsWith('.txt')))('%s (restore input): every rule kept prints as its parts print', (file) => {
    printsAsParts(allRules(readFileSync(samples + file, 'utf8'), file))
  })

  it.each(readdirSync(rendered).filter((f) => f.endsWith('.iptables-save.txt')))('%s (iptables-save): every rule is kept, as the line it is', (file) => {
    const text = readFileSync(rendered + file, 'utf8')
    const rules = allRules(text, file)
    printsAsParts(rules)
    for (const r of rules) expect(r.counters ? `${r.counters} ${r.text}` : r.text).toBe(text.split('\n')[r.line - 1])
  })

  it.each([
    ['an alias', '-A X --source 10.0.0.1 -j ACCEPT'],
    ['a tab', '-A X\t-j ACCEPT'],
    ['two spaces', '-A X  -j ACCEPT'],
    ['a space at the end', '-A X -j ACCEPT '],
    ['single quotes', "-A X -m comment --comment 'a b' -j ACCEPT"],
    ['an escaped quote', '-A X -m comment --comment "say \\"hi\\"" -j ACCEPT'],
    ['two words touching', '-A X -m comment --comment "a"b -j ACCEPT'],
    ['a quoted module name', '-A X -m "tcp" --dport 80 -j ACCEPT'],
    ['a quoted target', '-A X -j "ACCEPT"'],
    ['a quoted chain', '-A "X" -j ACCEPT'],
    ['a "!" before -m', '-A X ! -m addrtype --src-type LOCAL -j ACCEPT'],
    ['an option after a flag', '-A X -m tcp --dport 80 -s 10.0.0.1 --sport 9 -j ACCEPT'],
    ['a quote inside a word', '-A X -m comment --comment a"b -j ACCEPT'],
    ['a carriage return', '-A X -j ACCEPT\r'],
  ])('not kept where printing may change it: %s', (_what, line) => {
    expect(rule(line).text).toBeUndefined()
  })
})

describe('rule model', () => {
  it.each([
    [
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y',
      ['dst 10.96.0.1/32', 'protocol tcp', 'comment default/kubernetes:https cluster IP', 'port dport 443'],
      'jump KUBE-SVC-NPX46M4PTMTKRN6Y',
    ],
    [
      '-A KUBE-SVC-X ! -s 10.244.0.0/16 -d 10.96.10.10/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ',
      ['!src 10.244.0.0/16', 'dst 10.96.10.10/32', 'protocol tcp', 'port dport 80'],
      'jump KUBE-MARK-MASQ',
    ],
    [
      '-A KUBE-SVC-X -m comment --comment "a -> b" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-Y',
      ['comment a -> b', 'statistic 0.33333333349'],
      'jump KUBE-SEP-Y',
    ],
    [
      '-A KUBE-SEP-Y -p tcp -m recent --set --name KUBE-SEP-Y --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.0.0.1:80',
      ['protocol tcp', 'recent set KUBE-SEP-Y'],
      'DNAT 10.0.0.1:80',
    ],
    [
      '-A KUBE-SVC-X -m recent --rcheck --seconds 600 --reap --name KUBE-SEP-Y --mask 255.255.255.255 --rsource -j KUBE-SEP-Y',
      ['recent rcheck KUBE-SEP-Y 600'],
      'jump KUBE-SEP-Y',
    ],
    ['-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS', ['addrtype dst LOCAL'], 'jump KUBE-NODEPORTS'],
    ['-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN', ['!mark 16384/16384'], 'RETURN'],
    ['-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000', [], 'MARK xset 16384/16384'],
    ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000', [], 'MARK or 16384/4294967295'],
    ['-A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', ['conntrack RELATED,ESTABLISHED'], 'ACCEPT'],
    [
      '-A KUBE-SERVICES -d 10.96.30.30/32 -p tcp -m tcp --dport 6379 -j REJECT --reject-with icmp-port-unreachable',
      ['dst 10.96.30.30/32', 'protocol tcp', 'port dport 6379'],
      'REJECT icmp-port-unreachable',
    ],
    [
      '-A KUBE-FIREWALL -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      ['dst 127.0.0.0/8', '!src 127.0.0.0/8', '!conntrack RELATED,ESTABLISHED,DNAT'],
      'DROP',
    ],
    ['-A X -p tcp --dport 80 -j ACCEPT', ['protocol tcp', 'port dport 80'], 'ACCEPT'],
    ['-A X -m geoip --src-cc XX -j ACCEPT', ['unknown -m geoip --src-cc XX'], 'ACCEPT'],
    ['-A X -j LOG --log-prefix "svc: "', [], 'unknown LOG'],
  ])('%s', (line, matches, target) => {
    const r = rule(line)
    const show = r.matches.map((m) => {
      switch (m.kind) {
        case 'src':
        case 'dst':
          return `${m.negated ? '!' : ''}${m.kind} ${m.cidr.text}`
        case 'protocol':
          return `protocol ${m.protocol}`
        case 'port':
          return `port ${m.which} ${m.ranges.map(([a, b]) => (a === b ? a : `${a}:${b}`)).join(',')}`
        case 'comment':
          return `comment ${m.text}`
        case 'statistic':
          return `statistic ${m.probability}`
        case 'recent':
          return `recent ${m.action} ${m.name}${m.seconds ? ` ${m.seconds}` : ''}`
        case 'addrtype':
          return `addrtype ${m.which} ${m.type}`
        case 'mark':
          return `${m.negated ? '!' : ''}mark ${m.value}/${m.mask}`
        case 'conntrack':
          return `${m.negated ? '!' : ''}conntrack ${m.states.join(',')}`
        default:
          return `${m.kind} ${'text' in m ? m.text : ''}`
      }
    })
    expect(show).toEqual(matches)
    const t = r.target
    const tshow =
      t.kind === 'jump' || t.kind === 'goto'
        ? `${t.kind} ${t.chain}`
        : t.kind === 'DNAT'
          ? `DNAT ${t.text}`
          : t.kind === 'REJECT'
            ? `REJECT ${t.with}`
            : t.kind === 'MARK'
              ? `MARK ${t.op} ${t.value}/${t.mask}`
              : t.kind === 'unknown'
                ? `unknown ${t.name}`
                : t.kind
    expect(tshow).toBe(target)
  })

  it.each([
    ['-A X -m comment --comment "unterminated -j ACCEPT', /unterminated double quote/],
    ['-A X -s', /"-s" needs a value/],
    ['-A X -s not-an-ip -j ACCEPT', /"not-an-ip" is not an address/],
    ['-A X -j ACCEPT -j DROP', /two targets/],
    ['-A X ! ', /"!" with nothing after it/],
    ['-I X -j ACCEPT', /expected "-A CHAIN/],
  ])('rejects %s', (line, message) => {
    const r = parseRuleLine(line, 'nat', 7)
    expect('error' in r && r.error).toMatch(message)
  })

  it('parses a rule of more words than the tokenizer first makes room for, and the next rule after it', () => {
    const comments = Array.from({length: 40}, (_, i) => `-m comment --comment "c ${i}"`)
    const long = `-A X ${comments.join(' ')} -j ACCEPT`
    const parsed = rule(long)
    expect(parsed.matches.map((m) => (m.kind === 'comment' ? m.text : m.kind))).toEqual(Array.from({length: 40}, (_, i) => `c ${i}`))
    expect(formatRule(parsed)).toBe(long)
    expect(rule('-A Y -d 10.0.0.1/32 -j DROP').matches).toEqual([{kind: 'dst', cidr: parseCidr('10.0.0.1/32'), negated: false}])
  })

  it('keeps counters and quotes comments with escapes when printing', () => {
    const r = rule('[5:300] -A X -m comment --comment "say \\"hi\\"" -j ACCEPT')
    expect(r.counters).toBe('[5:300]')
    expect(r.matches[0]).toEqual({kind: 'comment', text: 'say "hi"'})
    expect(formatRule(r)).toBe('[5:300] -A X -m comment --comment "say \\"hi\\"" -j ACCEPT')
  })
})

describe('dump index', () => {
  const good = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n'

  it('indexes chains by table and keeps line numbers', () => {
    const dump = indexIptablesSave(good, 'x')
    expect([...dump.tables.get('nat')!.chains.keys()]).toEqual(['PREROUTING', 'KUBE-SERVICES'])
    expect(dump.tables.get('nat')!.chains.get('PREROUTING')!.policy).toBe('ACCEPT')
    expect(chainRules(dump, 'nat', 'PREROUTING')!.map((r) => r.line)).toEqual([4])
  })

  it('parses a chain only when asked', () => {
    const dump = indexIptablesSave(good + '*filter\n-A BROKEN -s nonsense -j DROP\nCOMMIT\n', 'x')
    expect(dump.tables.get('filter')!.chains.get('BROKEN')!.parsed).toBeUndefined()
    expect(chainRules(dump, 'filter', 'BROKEN')![0]).toMatchObject({line: 7, error: expect.stringMatching(/not an address/)})
  })

  it.each([
    ['a truncated dump', good.replace('COMMIT\n', '-A KUBE-SERVICES -d 10.0.0.1/32'), 5, /has no COMMIT: the dump is truncated/],
    ['a rule before any table', '-A X -j ACCEPT\n', 1, /outside any "\*table"/],
    ['two tables without COMMIT', '*nat\n*filter\nCOMMIT\n', 2, /no COMMIT before the next table/],
    ['text that is not a dump', 'Error: Permission denied (you must be root)\n', 1, /unexpected line/],
    ['an empty file', '', 0, /no "\*table" section/],
  ])('rejects %s, naming the line', (_what, text, line, message) => {
    let err: unknown
    try {
      indexIptablesSave(text, 'nodes/n1/iptables-save.txt')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(DumpError)
    expect((err as DumpError).line).toBe(line)
    expect((err as DumpError).message).toMatch(message)
    expect((err as DumpError).message).toContain('nodes/n1/iptables-save.txt')
  })

  it('finds every chain by name after thousands of searches (a hash table of the names) as before them (binary search)', () => {
    // Built-ins and an unsorted stretch first, then a sorted run; one name not ASCII, one declared twice.
    const unsorted = ['PREROUTING', 'OUTPUT', 'KUBE-SVC-ZZ', 'KUBE-SVC-AA', 'KUBE-É']
    const sorted = Array.from({length: 3000}, (_, i) => `KUBE-SEP-${String(i).padStart(5, '0')}`)
    const text = `*nat\n${[...unsorted, ...sorted, 'KUBE-SVC-AA'].map((n) => `:${n} - [0:0]`).join('\n')}\nCOMMIT\n`
    const nat = indexIptablesSave(Buffer.from(text), 'x').tables.get('nat')!
    const names = [...unsorted, ...sorted]
    const before = names.map((n) => nat.find(n))
    expect(before).toEqual(names.map((_, k) => k))
    // Past the searches that make the table, the same answers, and none for names not declared.
    for (const n of names) nat.find(n)
    expect(names.map((n) => nat.find(n))).toEqual(before)
    expect(['KUBE-SEP-03000', 'KUBE-SEP-0000', 'KUBE-É2', '', 'kube-svc-aa'].map((n) => nat.find(n))).toEqual([-1, -1, -1, -1, -1])
  })

  const declared = (names: string[]) => `*nat\n${names.map((n) => `:${n} - [0:0]`).join('\n')}\nCOMMIT\n`
  it.each([
    ['sorted, as iptables-save prints them', ['KUBE-MARK-MASQ', 'KUBE-SEP-A', 'KUBE-SEP-B', 'KUBE-SERVICES', 'KUBE-SVC-A', 'KUBE-SVL-A'], 'KUBE-SEP-', 2],
    ['the prefix at the end of the run', ['A', 'KUBE-SVC-A', 'KUBE-SVC-B'], 'KUBE-SVC-', 2],
    ['the prefix at the start', ['KUBE-SVC-A', 'KUBE-SVC-B', 'Z'], 'KUBE-SVC-', 2],
    ['no name with it', ['A', 'B'], 'KUBE-SVC-', 0],
    ['a name equal to the prefix', ['KUBE-SVC-', 'KUBE-SVC-A'], 'KUBE-SVC-', 2],
    ['unsorted restore input', ['KUBE-SERVICES', 'KUBE-SVC-B', 'KUBE-SEP-A', 'KUBE-SVC-A', 'KUBE-MARK-MASQ', 'KUBE-SVC-C'], 'KUBE-SVC-', 3],
    ['built-ins first, then the sorted run', ['PREROUTING', 'OUTPUT', 'KUBE-SEP-X', 'KUBE-SVC-A', 'KUBE-SVC-B'], 'KUBE-SVC-', 2],
  ])('counts the chains with a prefix: %s', (_what, names, prefix, count) => {
    const nat = indexIptablesSave(declared(names), 'x').tables.get('nat')!
    expect(nat.countWithPrefix(prefix)).toBe(count)
    expect(count).toBe(names.filter((n) => n.startsWith(prefix)).length)
  })

  it.each(readdirSync(samples).filter((f) => /^iptables.*\.txt$/.test(f)))('counts the chains with each prefix of %s as a scan of every name does', (file) => {
    const dump = indexIptablesSave(readFileSync(samples + file, 'utf8'), file)
    for (const table of dump.tables.values()) {
      const names = [...table.chains.keys()]
      for (const prefix of ['KUBE-SVC-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-', 'K', 'PRE']) {
        expect(table.countWithPrefix(prefix), `${table.name} ${prefix}`).toBe(names.filter((n) => n.startsWith(prefix)).length)
      }
    }
  })

  it.each(readdirSync(samples).filter((f) => /^iptables.*\.txt$/.test(f)))('indexes %s from its bytes as from its text', (file) => {
    const text = readFileSync(samples + file, 'utf8')
    // A Buffer that starts inside a bigger one (as Node's pooled Buffers do): offsets are the view's.
    const bytes = Buffer.concat([Buffer.from('padding'), Buffer.from(text)]).subarray(7)
    expect(formatIptablesSave(indexIptablesSave(bytes, file))).toBe(formatIptablesSave(indexIptablesSave(text, file)))
  })

  it('decodes UTF-8 in comments and finds a chain named outside ASCII', () => {
    const text = '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-É - [0:0]\n-A KUBE-SERVICES -m comment --comment "café ☕" -j KUBE-É\n-A KUBE-É -j ACCEPT\nCOMMIT\n'
    const dump = indexIptablesSave(new TextEncoder().encode(text), 'x')
    const r = first(chainRules(dump, 'nat', 'KUBE-SERVICES')!)
    expect('error' in r ? r.error : formatRule(r)).toBe('-A KUBE-SERVICES -m comment --comment "café ☕" -j KUBE-É')
    expect(chainRules(dump, 'nat', 'KUBE-É')!.map((x) => x.line)).toEqual([5])
  })

  it('lets go of chains looked up long ago and reads them again the same', () => {
    const chains = Array.from({length: 10_000}, (_, i) => `KUBE-SEP-${String(i).padStart(8, '0')}`)
    const text = [
      '*nat',
      ...chains.map((c) => `:${c} - [0:0]`),
      ...chains.map((c, i) => `-A ${c} -p tcp -j DNAT --to-destination 10.0.${i >> 8}.${i & 255}:80`),
      'COMMIT',
      '',
    ].join('\n')
    const dump = indexIptablesSave(text, 'x')
    const nat = dump.tables.get('nat')!
    const firstChain = nat.get(chains[0]!)
    const before = chainRules(dump, 'nat', chains[0]!)
    for (const c of chains) chainRules(dump, 'nat', c)
    // Ten thousand chains later the first is no longer held: it is made again, with the same rules.
    expect(nat.get(chains[0]!)).not.toBe(firstChain)
    expect(chainRules(dump, 'nat', chains[0]!)).toEqual(before)
    expect(chainRules(dump, 'nat', chains[9_999]!)!.map((r) => ('error' in r ? r.error : r.target))).toEqual([
      {kind: 'DNAT', ip: '10.0.39.15', cidr: parseCidr('10.0.39.15'), port: 80, text: '10.0.39.15:80'},
    ])
  })

  it('lets a generation of chains go when told the traces that used them are done, keeping those used since', () => {
    const text = [
      '*nat',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-SEP-A - [0:0]',
      ':KUBE-SEP-B - [0:0]',
      '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
      '-A KUBE-SEP-A -j DNAT --to-destination 10.0.0.1:80',
      '-A KUBE-SEP-B -j DNAT --to-destination 10.0.0.2:80',
      'COMMIT',
      '',
    ].join('\n')
    const dump = indexIptablesSave(text, 'x')
    const nat = dump.tables.get('nat')!
    // One Service's traces use KUBE-SEP-A and KUBE-MARK-MASQ; the next one's KUBE-SEP-B and KUBE-MARK-MASQ.
    const a = nat.get('KUBE-SEP-A')
    const masq = nat.get('KUBE-MARK-MASQ')
    nextGeneration(dump)
    expect(nat.get('KUBE-MARK-MASQ')).toBe(masq)
    nat.get('KUBE-SEP-B')
    nextGeneration(dump)
    // Two generations on, what was used only before the first is made again; what was used since is kept.
    expect(nat.get('KUBE-MARK-MASQ')).toBe(masq)
    expect(nat.get('KUBE-SEP-A')).not.toBe(a)
    expect(chainRules(dump, 'nat', 'KUBE-SEP-A')!.map((r) => r.line)).toEqual([6])
  })

  it('a long chain forgets, when told the traces are done, the rules it parsed for one destination, and keeps the others', () => {
    // 100 Services' rules in KUBE-SERVICES (a long chain: it gets a destination index), then the node-port jump every trace passes.
    const vip = (i: number) => `10.96.${i >> 8}.${i & 255}`
    const text = [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ...Array.from({length: 100}, (_, i) => `-A KUBE-SERVICES -d ${vip(i)}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-${i}`),
      '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      'COMMIT',
      '',
    ].join('\n')
    const dump = indexIptablesSave(text, 'x')
    const view = chainView(dump, 'nat', 'KUBE-SERVICES')!
    const walk = (i: number) => view.candidates(`${vip(i)}`).map((k) => view.ruleTo(k, vip(i)))
    const [mine, jump] = walk(7)
    expect(mine && !('error' in mine) && mine.target).toMatchObject({kind: 'jump', chain: 'KUBE-SVC-7'})
    // the same objects while one Service's traces go on
    expect(walk(7)).toEqual([mine, jump])
    expect(walk(7)[0]).toBe(mine)
    nextGeneration(dump)
    // the next Service's traces: the rule for 10.96.0.7 is parsed again (the same rule, a new object); the jump without a destination is kept
    const again = chainView(dump, 'nat', 'KUBE-SERVICES')!
    const [mineAgain, jumpAgain] = again.candidates(vip(7)).map((k) => again.ruleTo(k, vip(7)))
    expect(mineAgain).toEqual(mine)
    expect(mineAgain).not.toBe(mine)
    expect(jumpAgain).toBe(jump)
    expect(dump.tables.get('nat')!.get('KUBE-SERVICES')!.parsed!.filter(Boolean)).toHaveLength(2)
  })

  it.each<[number, string, boolean]>([
    [0, '--match-set', true],
    [0, '-A KUBE-SERVICES', true],
    [0, 'dst,dst -j KUBE-MARK-MASQ', true],
    [0, 'KUBE-MARK-MASQX', false],
    [1, '--match-set', false],
    [1, 'café"', true],
    [1, 'cafe', false],
    [1, 'caf', true],
    [1, '-j KUBE-SVC-X', true],
    // Not across the end of the line into the next rule.
    [0, 'MASQ\n-A', false],
  ])('rule %i of KUBE-SERVICES mentions %j: %s, as its decoded text says (UTF-8 too)', (k, ascii, want) => {
    const text = [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
      '-A KUBE-SERVICES -m comment --comment "café" -j KUBE-SVC-X',
      'COMMIT',
      '',
    ].join('\n')
    const view = chainView(indexIptablesSave(Buffer.from(text), 'x'), 'nat', 'KUBE-SERVICES')!
    expect(view.mentions(k, ascii)).toBe(want)
    if (!ascii.includes('\n')) expect(view.text(k).includes(ascii)).toBe(want)
  })

  it('keeps every rule of a dump whose lines are shorter than the first guess allows for', () => {
    const text = ['*filter', ':X - [0:0]', ...Array.from({length: 5000}, () => '-A X -j DROP'), 'COMMIT', ''].join('\n')
    const dump = indexIptablesSave(text, 'x')
    expect(dump.ruleCount).toBe(5000)
    expect(chainRules(dump, 'filter', 'X')!.map((r) => r.line)).toEqual(Array.from({length: 5000}, (_, i) => i + 3))
  })

  it('accepts CRLF line ends', () => {
    const dump = indexIptablesSave(good.replace(/\n/g, '\r\n'), 'x')
    const r = first(chainRules(dump, 'nat', 'PREROUTING')!)
    expect('error' in r ? r.error : r.target).toEqual({kind: 'jump', chain: 'KUBE-SERVICES'})
  })
})
