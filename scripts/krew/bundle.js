// The bundled CLI: esbuild bundles scripts/krew/entry.js (the compiled command in dist/ plus
// @oclif/core and every runtime dependency) into one CommonJS file for Node 20, which runs
// from any directory and through krew's symlink; nothing is read from a node_modules tree.
//
// Heavy packages that src/ only imports on demand (LAZY_GROUPS: client-node with the WebSocket
// library its exec uses, ssh2) go into bundles of their own, loaded on first use: from a file
// next to the main bundle, or from an asset of the single executable. --help, --version and
// offline traces never parse them (client-node alone is 2.6 MB of bundled JavaScript; parsing it
// would double start-up time). Also collects the licenses of everything bundled.
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {build} from 'esbuild'

/** The file oclif is told to load its command from; REQUIRE_SHIM answers for it. Never exists on disk. */
export const COMMAND_TARGET = './__svctrace_bundled_command__.cjs'

/**
 * Packages src/ imports only on demand, by bundle. An import of one of them, or of a file in it,
 * anywhere outside its own bundle, loads that bundle. Packages used together share a bundle
 * (client-node itself uses ws). A group with an `entry` (a module of dist/) is reached only through
 * that module, which re-exports what src uses of its packages: its bundle is that module's, so the
 * rest of the packages is left out (client-node: 5.6 → 2.6 MB), and an import of one of its packages
 * anywhere else fails the build.
 */
export const LAZY_GROUPS = [
  {file: 'svctrace-client-node.cjs', packages: ['@kubernetes/client-node', 'isomorphic-ws', 'ws'], entry: 'dist/adapters/kube/client-node.js'},
  {file: 'svctrace-ssh2.cjs', packages: ['ssh2']},
]
export const LAZY_PACKAGES = LAZY_GROUPS.flatMap((g) => g.packages)

/** The package an import specifier names: `@a/b/c.js` → `@a/b`, `ws/lib/x` → `ws`. */
export function packageOf(spec) {
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** The bundle that holds a lazy package (or a file in it), or a group's entry: @kubernetes/client-node → svctrace-client-node.cjs. */
export function lazyFileName(spec) {
  const group = LAZY_GROUPS.find((g) => g.entry === spec || g.packages.includes(packageOf(spec)))
  if (!group) throw new Error(`${spec} is not in LAZY_GROUPS`)
  return group.file
}

// Put in front of every bundle. A bundle is hermetic: its `require` loads Node.js built-ins
// and nothing from disk, in the Node.js archive and in the SEA alike (a SEA's own require
// only has built-ins, and warns on anything else). Optional dependencies that are probed
// with require() in a try (ssh2's native binding, typescript for oclif, a package.json
// beside the file) are simply absent. oclif's module loader goes through
// require.resolve/require for the command target, which the shim maps to the bundle's own
// exports. `var` re-declares the wrapper's `require` parameter; the argument is the original.
// __svctraceLoadLazy(file) evaluates a lazy bundle (see lazyPackages) once.
/** How __svctraceLoadLazy wraps a lazy bundle's code into a function (one line: line numbers stay). */
export const LAZY_WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})']
/** The V8 code cache of a lazy bundle, beside it: FILE + this. */
export const CODE_CACHE_SUFFIX = '.v8cache'

export const REQUIRE_SHIM = `var require = ((nodeRequire) => {
  const {isBuiltin} = nodeRequire('node:module');
  const isCommandTarget = (id) => typeof id === 'string' && id.endsWith(${JSON.stringify(COMMAND_TARGET.slice(1))});
  const notFound = (id) => Object.assign(new Error("Cannot find module '" + id + "' (not bundled)"), {code: 'MODULE_NOT_FOUND'});
  const shim = (id) => {
    if (isCommandTarget(id)) return module.exports;
    if (isBuiltin(id)) return nodeRequire(id);
    throw notFound(id);
  };
  shim.resolve = (id) => {
    if (isCommandTarget(id) || isBuiltin(id)) return id;
    throw notFound(id);
  };
  shim.main = nodeRequire.main;
  return shim;
})(require);
var __svctraceLoadLazy = (() => {
  const loaded = new Map();
  return (file) => {
    if (!loaded.has(file)) {
      const filename = require('node:path').join(__dirname, file);
      let sea;
      try { sea = require('node:sea'); } catch {}
      const fromSea = Boolean(sea && sea.isSea());
      const code = fromSea ? sea.getAsset(file, 'utf8') : require('node:fs').readFileSync(filename, 'latin1');
      // The V8 code cache the build made beside the bundle (scripts/bundle-dist.js): V8 refuses one
      // made by another Node.js or for other code, and then compiles as without it.
      let cachedData;
      if (!fromSea) try { cachedData = require('node:fs').readFileSync(filename + ${JSON.stringify(CODE_CACHE_SUFFIX)}); } catch {}
      const mod = {exports: {}};
      new (require('node:vm').Script)(${JSON.stringify(LAZY_WRAPPER[0])} + code + ${JSON.stringify(LAZY_WRAPPER[1])}, cachedData ? {filename, cachedData} : {filename})
        .runInThisContext()
        .call(mod.exports, mod.exports, require, mod, filename, __dirname);
      loaded.set(file, mod.exports);
    }
    return loaded.get(file);
  };
})();`

/**
 * The launcher: #!/usr/bin/env node, checks the Node.js version (in syntax any Node parses,
 * so an old Node gets a sentence rather than a SyntaxError from the bundle), answers `--version`
 * alone from the small bundle at `versionPath` (bundleVersionCheck's), else loads the bundle,
 * both next to the launcher's real path.
 */
export function launcher(bundlePath, minNodeMajor, versionPath) {
  return `#!/usr/bin/env node
// kubectl-svctrace: the svctrace kubectl plugin (Node.js build). krew links
// $KREW_ROOT/bin/kubectl-svctrace here; kubectl runs it for \`kubectl svctrace ...\`.
'use strict';
var major = Number(process.versions.node.split('.')[0]);
if (!(major >= ${minNodeMajor})) {
  process.stderr.write('error: kubectl svctrace needs Node.js ${minNodeMajor} or newer, but "node" on PATH is ' +
    process.version + ' (' + process.execPath + '); install Node.js ${minNodeMajor}+ from https://nodejs.org\\n');
  process.exit(2);
}
var dir = require('fs').realpathSync(__dirname);
if (!require(require('path').join(dir, ${JSON.stringify(versionPath)})).printedVersion(process.argv.slice(2))) {
  require(require('path').join(dir, ${JSON.stringify(bundlePath)}));
}
`
}

/** The oclif part of package.json the bundled CLI needs, with the command target replaced. */
export function inlinePjson(pkg) {
  return {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    oclif: {...pkg.oclif, commands: {strategy: 'single', target: COMMAND_TARGET}},
  }
}

/**
 * esbuild plugin: node-fetch 2's import of whatwg-url becomes Node's own URL. node-fetch uses
 * whatwg-url only where Node has no URL class (`Url.URL || whatwgUrl.URL`, node-fetch 2.7 lib/index.js),
 * which Node 20 always has; the package and the tr46 tables it loads were 12 % of client-node's bundle,
 * compiled and run at every live run's start.
 */
const nodeUrlForNodeFetch = {
  name: 'svctrace-node-url-for-node-fetch',
  setup(b) {
    b.onResolve({filter: /^whatwg-url$/}, (args) =>
      /[\\/]node_modules[\\/]node-fetch[\\/]/.test(args.importer) ? {path: 'whatwg-url', namespace: 'svctrace-node-url'} : undefined,
    )
    b.onLoad({filter: /.*/, namespace: 'svctrace-node-url'}, () => ({contents: "module.exports = {URL: require('node:url').URL}", loader: 'js'}))
  },
}

const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/**
 * esbuild plugin: an import of a lazy package (or of a group's entry module) outside its own bundle
 * (`within`: that bundle's file) becomes a stub that takes it from the package's bundle; `used`
 * collects, per bundle file, the import specifiers it must answer (an entry by its path from `root`).
 */
function lazyPackages(root, within, used) {
  const others = LAZY_GROUPS.filter((g) => g.file !== within)
  const names = others.flatMap((g) => g.packages).map(escaped)
  const entries = others.filter((g) => g.entry)
  const stub = (spec) => {
    const file = lazyFileName(spec)
    if (!used.has(file)) used.set(file, new Set())
    used.get(file).add(spec)
    return {path: spec, namespace: 'svctrace-lazy'}
  }
  return {
    name: 'svctrace-lazy-packages',
    setup(b) {
      if (names.length === 0) return
      b.onResolve({filter: new RegExp(`^(${names.join('|')})(/.*)?$`)}, (args) => {
        const group = LAZY_GROUPS.find((g) => g.packages.includes(packageOf(args.path)))
        if (group?.entry) {
          return {
            errors: [
              {
                text: `${args.importer} imports ${args.path}: import what it needs through ${group.entry} (src/${group.entry.slice('dist/'.length).replace(/\.js$/, '.ts')})`,
              },
            ],
          }
        }
        return stub(args.path)
      })
      if (entries.length > 0) {
        b.onResolve({filter: new RegExp(`(^|/)(${entries.map((g) => escaped(path.basename(g.entry))).join('|')})$`)}, (args) => {
          const group = entries.find((g) => path.resolve(args.resolveDir, args.path) === path.join(root, g.entry))
          return group ? stub(group.entry) : undefined
        })
      }
      b.onLoad({filter: /.*/, namespace: 'svctrace-lazy'}, (args) => ({
        // What require(spec) gives, so esbuild's import interop sees what Node's would: a CommonJS
        // package's module.exports (the default export), an ES module's exports.
        contents: `module.exports = __svctraceLoadLazy(${JSON.stringify(lazyFileName(args.path))})[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }))
    },
  }
}

/** The entry of a lazy bundle: each specifier (a package, or a group's entry module), required on first access. */
function lazyEntry(specs) {
  const required = (spec) => (LAZY_GROUPS.some((g) => g.entry === spec) ? `./${spec}` : spec)
  return [...specs]
    .sort()
    .map((spec) => `Object.defineProperty(exports, ${JSON.stringify(spec)}, {enumerable: true, get: () => require(${JSON.stringify(required(spec))})});\n`)
    .join('')
}

const COMMON = {
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // oclif can auto-transpile TypeScript and ssh2 has an optional native binding: neither
  // may end up in a bundle (TypeScript alone would be 10 MB). Both fall back at run time.
  external: ['typescript', 'ts-node', 'tsx', 'cpu-features', '*.node'],
  banner: {js: REQUIRE_SHIM},
  legalComments: 'none', // licenses go to THIRD-PARTY-NOTICES instead
  // Less to parse at every start (measured: --version 203 → 191 ms); identifiers stay as
  // written, so stack traces and class names still read.
  minifyWhitespace: true,
  minifySyntax: true,
  // ASCII output: a one-byte string for V8, read as Latin-1 (bin/load-bundle.cjs, the lazy loader)
  // instead of decoded from UTF-8 (see asciiOnly for the regular expressions esbuild leaves as written).
  charset: 'ascii',
  metafile: true,
  logLevel: 'silent',
}

/**
 * The bundle's text with every character outside ASCII written as an escape. esbuild's `charset: 'ascii'`
 * escapes strings and identifiers but leaves a regular expression's own characters as written (ansis
 * matches a raw U+009B); there `\uXXXX` means the same character, in a class or not, with the u flag or
 * without. Checked ASCII after: the loaders read the bundles as Latin-1.
 */
export function asciiOnly(code) {
  // After a backslash the escape would read as an escaped backslash and letters: refuse rather than guess.
  if (/\\[\u0080-\u{10ffff}]/u.test(code)) throw new Error('bundle: a character outside ASCII follows a backslash; cannot escape it')
  const out = code.replace(/[\u0080-\u{10ffff}]/gu, (c) =>
    Array.from({length: c.length}, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  )
  if (/[\u0080-\u{10ffff}]/u.test(out)) throw new Error('bundle: characters outside ASCII left after escaping')
  return out
}

async function esbuildOnce(options) {
  const result = await build({...COMMON, ...options})
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`)
  for (const w of result.warnings) {
    // A warning here means something would break at run time (e.g. import.meta in CommonJS).
    throw new Error(`esbuild warning, refusing to package: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`)
  }
  return {code: asciiOnly(result.outputFiles[0].text), inputs: Object.keys(result.metafile.inputs), metafile: result.metafile}
}

/** The bundle's entry point (relative to the root). */
export const ENTRY = 'scripts/krew/entry.js'

/**
 * Bundles dist/ (run `npm run build` first) into CommonJS source text.
 * Returns {code, lazy: [{file, specifiers, code}], packages, imports, mainInputs}: `lazy` are the
 * bundles of the LAZY_GROUPS the code imports (with the specifiers each answers), `packages`
 * every node_modules package bundled, by name, `mainInputs` the files in the main bundle,
 * `imports` every import esbuild saw in the main bundle's own files (dist/, scripts/), by file:
 * dynamic import() calls with a literal path (or a template with a literal directory) are
 * followed and bundled like static imports, so adapters loaded on demand are inside.
 * `entry` replaces ENTRY (tests bundle other entry points with the same settings).
 */
export async function bundleCli(root, {entry = ENTRY} = {}) {
  if (entry === ENTRY && !existsSync(path.join(root, 'dist/commands/svctrace.js'))) {
    throw new Error('dist/commands/svctrace.js is missing: run `npm run build` first')
  }
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  const used = new Map() // bundle file → import specifiers
  const main = await esbuildOnce({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: 'svctrace.cjs', // not written (write: false); names the output
    define: {__SVCTRACE_PJSON__: JSON.stringify(inlinePjson(pkg))},
    plugins: [lazyPackages(root, undefined, used), nodeUrlForNodeFetch],
  })
  const inputs = [...main.inputs]
  // A lazy bundle may import another one; rebuild until every bundle answers every specifier asked of it.
  const built = new Map() // file → {specs, code, inputs}
  for (;;) {
    const file = [...used.keys()].sort().find((f) => built.get(f)?.specs !== [...used.get(f)].sort().join('\n'))
    if (!file) break
    const specs = [...used.get(file)].sort()
    const b = await esbuildOnce({
      absWorkingDir: root,
      stdin: {contents: lazyEntry(specs), resolveDir: root, sourcefile: `lazy:${file}`, loader: 'js'},
      outfile: file,
      plugins: [lazyPackages(root, file, used), nodeUrlForNodeFetch],
    })
    built.set(file, {specs: specs.join('\n'), code: b.code, inputs: b.inputs})
  }
  const lazy = [...built].map(([file, b]) => {
    inputs.push(...b.inputs)
    return {file, specifiers: b.specs.split('\n'), code: b.code}
  })
  lazy.sort((a, b) => (a.file < b.file ? -1 : 1))
  const imports = Object.fromEntries(
    Object.entries(main.metafile.inputs)
      .filter(([file]) => !file.includes('node_modules/'))
      .map(([file, info]) => [file, info.imports]),
  )
  return {code: main.code, lazy, packages: bundledPackages(root, inputs), imports, mainInputs: main.inputs, version: pkg.version}
}

/** dist/version.cjs: the `--version` answer alone (version-entry.js), for bin/run.js to ask before the bundle. */
export async function bundleVersionCheck(root) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  const {code} = await esbuildOnce({
    absWorkingDir: root,
    entryPoints: ['scripts/krew/version-entry.js'],
    outfile: 'version.cjs',
    define: {__SVCTRACE_PJSON__: JSON.stringify(inlinePjson(pkg))},
  })
  return code
}

/** The node_modules packages among esbuild's inputs: [{name, version, license, dir}], sorted by name. */
export function bundledPackages(root, inputs) {
  const dirs = new Set()
  for (const input of inputs) {
    const m = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//)
    if (m) dirs.add(m[1])
  }
  const byName = new Map()
  for (const dir of dirs) {
    const pjson = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8'))
    if (!pjson.name) continue // a nested package.json that only sets "type"
    const key = `${pjson.name}@${pjson.version}`
    if (!byName.has(key)) byName.set(key, {name: pjson.name, version: pjson.version, license: licenseOf(pjson), dir})
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1))
}

function licenseOf(pjson) {
  if (typeof pjson.license === 'string') return pjson.license
  if (pjson.license?.type) return pjson.license.type
  if (Array.isArray(pjson.licenses)) return pjson.licenses.map((l) => l.type ?? l).join(' OR ')
  return 'UNKNOWN'
}

/** THIRD-PARTY-NOTICES: every bundled package with its license text; `prefix` goes first (e.g. Node.js for the SEA). */
export function thirdPartyNotices(root, packages, prefix = '') {
  const rule = '='.repeat(78)
  const lines = [
    'kubectl-svctrace is distributed under the Apache License 2.0 (see LICENSE).',
    'It includes the following third-party software, under the licenses reproduced below.',
    '',
  ]
  if (prefix) lines.push(prefix.trimEnd(), '')
  lines.push(`Bundled npm packages (${packages.length}):`, ...packages.map((p) => `  ${p.name}@${p.version}  ${p.license}`), '')
  for (const p of packages) {
    lines.push(rule, `${p.name}@${p.version}  (${p.license})`, rule)
    const files = readdirSync(path.join(root, p.dir))
      .filter((f) => /^(licen[cs]e|copying|notice)([.-].*)?$/i.test(f))
      .sort()
    if (files.length === 0) lines.push(`(no license file in the package; package.json says "${p.license}")`)
    for (const f of files)
      lines.push(
        readFileSync(path.join(root, p.dir, f), 'utf8')
          .replace(/\r\n/g, '\n')
          .trimEnd(),
      )
    lines.push('')
  }
  return lines.join('\n')
}
