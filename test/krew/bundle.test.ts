// The bundled CLI (scripts/krew/bundle.js), checked before any archive is made:
// - every module the command imports on demand (adapters loaded with import()) is inside the
//   bundle, so adapters added later are bundled without touching the packaging;
// - the heavy packages (client-node, ssh2) sit in bundles of their own, out of the start-up path;
// - ssh2, bundled without its optional native parts (cpu-features, sshcrypto.node), still
//   speaks SSH: a client and a server from the same bundle over loopback.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {isBuiltin} from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runInThisContext} from 'node:vm'
import ts from 'typescript'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {asciiOnly, bundleCli, LAZY_GROUPS, LAZY_PACKAGES, lazyFileName, packageOf} from '../../scripts/krew/bundle.js'
import {root} from '../support/cli.js'

type Bundle = Awaited<ReturnType<typeof bundleCli>>
let scratch: string
let cli: Bundle

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-bundle-'))
  cli = await bundleCli(root)
}, 120_000)
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

function tsFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : []
  })
}

/** Every import(...) call in src/, with its argument as written. */
function dynamicImports(): Array<{file: string; line: number; arg: ts.Expression | undefined}> {
  const found: Array<{file: string; line: number; arg: ts.Expression | undefined}> = []
  for (const file of tsFiles(path.join(root, 'src'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        found.push({file: path.relative(root, file), line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, arg: node.arguments[0]})
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return found
}

describe('what the bundle contains', () => {
  it('only ASCII, in the main bundle and in each lazy one (the loaders read them as Latin-1)', () => {
    for (const code of [cli.code, ...cli.lazy.map((l) => l.code)]) expect(code).not.toMatch(/[\u0080-\u{10ffff}]/u)
    expect(cli.lazy.length).toBeGreaterThan(1)
  })

  it('every import() in src/ names its module literally, so esbuild can follow it', () => {
    const calls = dynamicImports()
    // today: bundle/writer, kube/kubeconfig, kube/api, client-node; more adapters are loaded the same way
    expect(calls.length).toBeGreaterThanOrEqual(4)
    const opaque = calls.filter(({arg}) => {
      if (!arg) return true
      if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return false
      // import(`./adapters/${name}.js`): esbuild bundles every file the pattern can match
      if (ts.isTemplateExpression(arg)) return !/^\.\.?\/.*\//.test(arg.head.text)
      return true
    })
    expect(opaque.map((c) => `${c.file}:${c.line}`)).toEqual([])
  })

  it('every import of the command, static or dynamic, resolved into the bundle: nothing left to load from disk', () => {
    const own = Object.keys(cli.imports).filter((f) => f.startsWith('dist/'))
    expect(own).toContain('dist/commands/svctrace.js')
    const unresolved: string[] = []
    const dynamic: string[] = []
    for (const file of own) {
      for (const imp of cli.imports[file]!) {
        if (imp.path.startsWith('<define:')) continue // the inlined package.json
        if (imp.kind === 'dynamic-import') dynamic.push(`${file} → ${imp.path}`)
        if (imp.external && !isBuiltin(imp.path)) unresolved.push(`${file}: ${imp.original ?? imp.path}`)
      }
    }
    expect(unresolved).toEqual([])
    // the adapters the command imports on demand are in the bundle; the lazy packages load from their own bundle
    expect(dynamic).toEqual(
      expect.arrayContaining([
        'dist/commands/wiring.js → dist/adapters/kube/api.js',
        'dist/commands/wiring.js → dist/adapters/kube/kubeconfig.js',
        'dist/adapters/kube/api.js → svctrace-lazy:dist/adapters/kube/client-node.js',
      ]),
    )
    for (const d of dynamic) expect(d).toMatch(/ → (dist\/.+\.js|svctrace-lazy:.+)$/)
    // every adapter file in the bundle is a bundle input (esbuild followed the import() calls)
    const dynamicTargets = dynamic.map((d) => d.split(' → ')[1]!).filter((t) => t.startsWith('dist/'))
    for (const t of dynamicTargets) expect(own).toContain(t)
  })

  it('client-node (with ws) and ssh2 are bundles of their own, never in the main bundle', () => {
    expect(LAZY_GROUPS).toEqual([
      {file: 'svctrace-client-node.cjs', packages: ['@kubernetes/client-node', 'isomorphic-ws', 'ws'], entry: 'dist/adapters/kube/client-node.js'},
      {file: 'svctrace-ssh2.cjs', packages: ['ssh2']},
    ])
    // not one file of a lazy package in the main bundle, also when imported by a path inside the package
    const heavy = new RegExp(`node_modules/(${LAZY_PACKAGES.map((p) => p.replace(/[/.-]/g, '\\$&')).join('|')})/`)
    expect(cli.mainInputs.filter((f) => heavy.test(f))).toEqual([])
    expect(cli.mainInputs.filter((f) => /node_modules\/@oclif\/core\//.test(f)).length).toBeGreaterThan(10) // the check above can see packages
    const clientNode = cli.lazy.find((l) => l.file === lazyFileName('@kubernetes/client-node'))
    // client-node is reached through src/adapters/kube/client-node.ts only; ssh2 as the package
    expect(clientNode?.specifiers).toEqual(['dist/adapters/kube/client-node.js'])
    for (const spec of cli.lazy.flatMap((l) => l.specifiers)) {
      expect(LAZY_GROUPS.some((g) => g.entry === spec) || LAZY_PACKAGES.includes(packageOf(spec))).toBe(true)
    }
    expect(clientNode!.code).toMatch(/KubeConfig=class/)
    expect(cli.code).not.toMatch(/KubeConfig=class/)
    expect(cli.code).not.toMatch(/Sending KEXINIT/)
    // the main bundle only reaches them through the lazy loader
    expect(cli.code).toContain(`__svctraceLoadLazy(${JSON.stringify(clientNode!.file)})`)
    expect(cli.code.length).toBeLessThan(clientNode!.code.length / 2)
    // no TypeScript compiler (oclif can auto-transpile) and no native binding slipped in
    expect(cli.code).not.toMatch(/\.node["']\)|createSourceFile=/)
  })

  it('the client-node bundle holds what src/adapters/kube/client-node.ts re-exports, not the whole package', () => {
    const clientNode = cli.lazy.find((l) => l.file === lazyFileName('@kubernetes/client-node'))!
    // what the adapters use is there: the API classes (client-node's CoreV1Api is its ObjectCoreV1Api),
    // the exec, the kubeconfig; and the package's other parts are not: other API groups, informers,
    // metrics, port forwarding, attach, copying files (names only: a failed match would print the whole bundle)
    const used = ['ObjectCoreV1Api', 'ObjectDiscoveryV1Api', 'ObjectAppsV1Api', 'Exec', 'KubeConfig', 'WebSocketHandler']
    const unused = ['ObjectBatchV1Api', 'ObjectNetworkingV1Api', 'ListWatch', 'Metrics', 'PortForward', 'Attach', 'Cp']
    const bundled = (code: string) => [...used, ...unused].filter((name) => new RegExp(`[^\\w$]${name}=class[ {]`).test(code))
    expect(bundled(clientNode.code)).toEqual(used)
  })

  it('an import of client-node outside src/adapters/kube/client-node.ts fails the build, naming the module to go through', async () => {
    const entry = path.join(scratch, 'direct-entry.js')
    writeFileSync(entry, "export const load = () => import('@kubernetes/client-node')\n")
    await expect(bundleCli(root, {entry: path.relative(root, entry)})).rejects.toThrow(
      /imports @kubernetes\/client-node: import what it needs through dist\/adapters\/kube\/client-node\.js/,
    )
  })

  it('the packages that only check pictures in tests (mermaid, jsdom) are in no bundle', () => {
    const testOnly = /node_modules\/(mermaid|jsdom|dompurify|@mermaid-js)\//
    const inputs = [...cli.mainInputs, ...Object.keys(cli.imports)]
    expect(inputs.filter((f) => /node_modules\//.test(f)).length).toBeGreaterThan(10) // the check below can see packages
    expect(inputs.filter((f) => testOnly.test(f))).toEqual([])
    for (const bundle of [cli.code, ...cli.lazy.map((l) => l.code)]) expect(bundle).not.toMatch(/DOMPurify|flowchart-v2/)
  })

  it('ssh2 from a bundle, without cpu-features or sshcrypto.node, completes an SSH session over loopback', async () => {
    const b = await bundleCli(root, {entry: 'test/krew/support/ssh2-entry.js'})
    expect(b.lazy.map((l) => [l.file, l.specifiers])).toEqual([[lazyFileName('ssh2'), ['ssh2']]])
    expect(b.code).not.toMatch(/Sending KEXINIT/)
    const ssh2 = b.lazy[0]!.code
    expect(ssh2).toMatch(/Sending KEXINIT/)
    expect(ssh2).toMatch(/require\("cpu-features"\)/) // left to the shim, which has no such module
    expect(b.packages.map((p) => p.name)).not.toContain('cpu-features')
    const dir = mkdtempSync(path.join(scratch, 'ssh2-'))
    writeFileSync(path.join(dir, 'main.cjs'), b.code)
    writeFileSync(path.join(dir, b.lazy[0]!.file), ssh2)
    const r = spawnSync(process.execPath, [path.join(dir, 'main.cjs')], {cwd: dir, encoding: 'utf8', timeout: 60_000, env: {PATH: process.env.PATH}})
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({out: 'ran: iptables-save\n', code: 0, hostKeyChecked: true, keyType: 'ssh-ed25519'})
  }, 60_000)
})

describe('asciiOnly: a bundle written in ASCII means what it meant', () => {
  // Each: code with a regular expression or string, and text the expression is tried on.
  it.each([
    ['a raw C1 control in a class', '/[\u001b\u009b][[()#;?]*m/', '\u009b[m'],
    ['typographic quotes', "/sudo['\u2018\u2019]?: not found/i", 'sudo\u2019: not found'],
    ['an arrow in a string', '"a \u2192 b"', 'a \u2192 b'],
    ['an astral character with the u flag', '/^[\u{1F600}-\u{1F64F}]$/u', '\u{1F601}'],
    ['an astral character without it', '/\u{1F601}/', 'x\u{1F601}'],
  ])('%s', (_, code, sample) => {
    const escaped = asciiOnly(code)
    expect(escaped).not.toMatch(/[\u0080-\u{10ffff}]/u)
    const value = (c: string) => runInThisContext(c) as RegExp | string
    const before = value(code)
    const after = value(escaped)
    if (typeof before === 'string') {
      expect(after).toBe(before)
      return
    }
    const regex = after as RegExp
    expect(regex.flags).toBe(before.flags)
    // The sample matches both; with its non-ASCII characters replaced, neither.
    const other = sample.replace(/[\u0080-\u{10ffff}]/gu, 'x')
    expect([before.test(sample), regex.test(sample), before.test(other), regex.test(other)]).toEqual([true, true, false, false])
  })

  it('refuses a character outside ASCII after a backslash instead of changing what it means', () => {
    // /\→/ (an identity escape) would become /\\u2192/: a backslash and "u2192".
    expect(() => asciiOnly('/\\\u2192/')).toThrow('follows a backslash')
  })
})
