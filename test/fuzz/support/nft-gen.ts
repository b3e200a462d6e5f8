// Generated nftables rulesets, as text (listing form) and as `nft -j` JSON: kube-proxy's table with
// base chains, verdict maps and numgen splits, and chains that jump anywhere (themselves, in cycles).
import fc from 'fast-check'
import {address} from './destinations.js'

const chainRef = (n: number) => fc.nat({max: n - 1}).map((i) => `c${i}`)

/** One statement in nft's text syntax, jumping to chains c0…cn-1. */
function statement(n: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.constantFrom('ip daddr', 'ip saddr', 'ip6 daddr', 'ip saddr !='), address).map(([s, a]) => `${s} ${a}`),
    fc.constantFrom(
      'meta l4proto tcp',
      'th dport 80',
      'tcp dport { 80, 443 }',
      'fib daddr type local',
      'ct state new',
      'meta mark & 0x4000 == 0x4000',
      'iifname "eth0"',
      'counter',
      'limit rate 10/second',
    ),
    fc.constantFrom('ip daddr . meta l4proto . th dport vmap @services', 'ip daddr . meta l4proto . th dport vmap @missing', 'ip saddr @allowed drop'),
    fc
      .tuple(fc.integer({min: 0, max: 4}), fc.array(chainRef(n), {minLength: 1, maxLength: 4}))
      .map(([mod, to]) => `numgen random mod ${mod} vmap { ${to.map((c, i) => `${i} : goto ${c}`).join(', ')} }`),
    fc.tuple(fc.constantFrom('jump', 'goto'), chainRef(n)).map(([v, c]) => `${v} ${c}`),
    fc.tuple(address, fc.option(fc.integer({min: 0, max: 70000}))).map(([a, p]) => `dnat to ${a.includes(':') ? `[${a}]` : a}${p !== null ? `:${p}` : ''}`),
    fc.constantFrom(
      'accept',
      'drop',
      'return',
      'reject',
      'masquerade fully-random',
      'meta mark set meta mark or 0x4000',
      'continue',
      'update @affinity { ip saddr }',
    ),
    fc.string({unit: 'binary-ascii', maxLength: 10}),
  )
}

/** A ruleset model: n chains of random rules, a services map, and which hooks call c0. */
const model = fc.integer({min: 1, max: 12}).chain((n) =>
  fc.record({
    family: fc.constantFrom('ip', 'ip6', 'inet'),
    chains: fc.array(fc.array(fc.array(statement(n), {minLength: 1, maxLength: 3}), {maxLength: 6}), {minLength: n, maxLength: n}),
    services: fc.array(fc.tuple(address, fc.constantFrom('tcp', 'udp'), fc.integer({min: 0, max: 65535}), chainRef(n)), {maxLength: 6}),
    hooks: fc.subarray(['prerouting', 'output', 'input', 'forward']),
    policy: fc.constantFrom('accept', 'drop'),
  }),
)

/** The ruleset as `nft list table` prints it. */
export const nftText: fc.Arbitrary<string> = model.map((m) =>
  [
    `table ${m.family} kube-proxy {`,
    '\tmap services {',
    '\t\ttype ipv4_addr . inet_proto . inet_service : verdict',
    m.services.length > 0 ? `\t\telements = { ${m.services.map(([a, p, port, c]) => `${a} . ${p} . ${port} : goto ${c}`).join(',\n\t\t\t     ')} }` : '',
    '\t}',
    ...m.hooks.map((h) => `\tchain base-${h} {\n\t\ttype nat hook ${h} priority dstnat; policy ${m.policy};\n\t\tjump c0\n\t}`),
    ...m.chains.map((rules, i) => `\tchain c${i} {\n${rules.map((r) => `\t\t${r.join(' ')}`).join('\n')}\n\t}`),
    '}',
    '',
  ].join('\n'),
)

/** A JSON value nft might print, or one it would not. */
const exprJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    match: fc.record({
      op: fc.constantFrom('==', '!=', 'in', '<'),
      left: fc.constantFrom(
        {payload: {protocol: 'ip', field: 'daddr'}},
        {meta: {key: 'l4proto'}},
        {ct: {key: 'state'}},
        {fib: {result: 'type', flags: ['daddr']}},
        7,
      ),
      right: fc.oneof(address, fc.nat(), fc.constant({set: ['new']}), fc.constant({prefix: {addr: '10.0.0.0', len: 8}}), fc.jsonValue({maxDepth: 2})),
    }),
  }),
  fc.record({jump: fc.record({target: fc.constantFrom('c0', 'c1', 'c2', 'nowhere')})}),
  fc.record({goto: fc.record({target: fc.constantFrom('c0', 'c1', 'c2')})}),
  fc.record({
    vmap: fc.record({
      key: fc.constant({numgen: {mode: 'random', mod: 2, offset: 0}}),
      data: fc.oneof(
        fc.constant('@services'),
        fc.constant({
          set: [
            [0, {goto: {target: 'c1'}}],
            [1, {jump: {target: 'c0'}}],
          ],
        }),
        fc.jsonValue({maxDepth: 2}),
      ),
    }),
  }),
  fc.record({dnat: fc.record({addr: fc.oneof(address, fc.jsonValue({maxDepth: 1})), port: fc.oneof(fc.nat(), fc.string())})}),
  fc.constantFrom(
    {accept: null},
    {drop: null},
    {return: null},
    {masquerade: {flags: 'fully-random'}},
    {counter: null},
    {mangle: {key: {meta: {key: 'mark'}}, value: {'|': [{meta: {key: 'mark'}}, 16384]}}},
  ),
  fc.jsonValue({maxDepth: 3}),
)

/** The ruleset as `nft -j list table` prints it, with some objects or expressions nft would never write. */
export const nftJson: fc.Arbitrary<string> = fc
  .record({
    family: fc.constantFrom('ip', 'ip6'),
    chains: fc.array(fc.array(fc.array(exprJson, {maxLength: 3}), {maxLength: 4}), {minLength: 1, maxLength: 4}),
    hook: fc.constantFrom('prerouting', 'output', 'input'),
    junk: fc.array(fc.jsonValue({maxDepth: 3}), {maxLength: 2}),
  })
  .map(({family, chains, hook, junk}) => {
    const t = {family, table: 'kube-proxy'}
    const objects: unknown[] = [
      {metainfo: {version: '1.0.9', json_schema_version: 1}},
      {table: {family, name: 'kube-proxy', handle: 1}},
      {
        map: {
          ...t,
          name: 'services',
          type: ['ipv4_addr', 'inet_proto', 'inet_service'],
          map: 'verdict',
          elem: [[{concat: ['10.96.0.10', 'tcp', 80]}, {goto: {target: 'c1'}}]],
        },
      },
      {chain: {...t, name: 'base', handle: 2, type: 'nat', hook, prio: -100, policy: 'accept'}},
      {rule: {...t, chain: 'base', handle: 3, expr: [{jump: {target: 'c0'}}]}},
      ...chains.flatMap((rules, i) => [
        {chain: {...t, name: `c${i}`, handle: 10 + i}},
        ...rules.map((expr, k) => ({rule: {...t, chain: `c${i}`, handle: 100 + k, expr}})),
      ]),
      ...junk,
    ]
    return JSON.stringify({nftables: objects})
  })
