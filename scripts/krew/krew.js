// What krew does with a plugin manifest, re-implemented for tests and the start-up bench
// (no Go toolchain or krew binary is needed). Follows kubernetes-sigs/krew:
//   internal/index/validation/validate.go      ValidatePlugin: the structural rules
//   internal/installation/semver/version.go    versions: leading 'v' + k8s semantic version
//   cmd/validate-krew-manifest/main.go         file name, known platforms, no overlaps, LICENSE
//   internal/download/downloader.go            sha256, content sniffing, tar.gz extraction
//   internal/installation/{install,move}.go    `files` moves, store path, bin link
// Error texts follow krew's so a failure here reads like the one krew would print.
import {createHash} from 'node:crypto'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import yaml from 'js-yaml'

export const API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2'
export const PLUGIN_KIND = 'Plugin'
export const MANIFEST_EXTENSION = '.yaml'

/** allPlatforms() of validate-krew-manifest: every os/arch krew supports. */
export const KNOWN_PLATFORMS = [
  {os: 'windows', arch: '386'},
  {os: 'windows', arch: 'amd64'},
  {os: 'windows', arch: 'arm64'},
  {os: 'linux', arch: '386'},
  {os: 'linux', arch: 'amd64'},
  {os: 'linux', arch: 'arm'},
  {os: 'linux', arch: 'arm64'},
  {os: 'linux', arch: 'ppc64le'},
  {os: 'darwin', arch: '386'},
  {os: 'darwin', arch: 'amd64'},
  {os: 'darwin', arch: 'arm64'},
]

const SAFE_PLUGIN_NAME = /^[\w-]+$/
const SHA256 = /^[a-f0-9]{64}$/
const WINDOWS_FORBIDDEN = [
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'COM1',
  'COM2',
  'COM3',
  'COM4',
  'COM5',
  'COM6',
  'COM7',
  'COM8',
  'COM9',
  'LPT1',
  'LPT2',
  'LPT3',
  'LPT4',
  'LPT5',
  'LPT6',
  'LPT7',
  'LPT8',
  'LPT9',
]
const LICENSE_FILES = new Set(['license', 'license.txt', 'license.md', 'licenses', 'licenses.txt', 'licenses.md', 'copying', 'copying.txt'])

// ---------------------------------------------------------------- versions

/**
 * krew's semver.Parse: a leading 'v', then k8s.io/apimachinery ParseSemantic
 * (exactly major.minor.patch, no zero-prefixed numbers, optional -pre and +build).
 */
export function parseVersion(s) {
  if (!s.startsWith('v')) throw new Error(`version string "${s}" not starting with 'v'`)
  const m = /^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$/s.exec(s)
  if (!m) throw new Error(`could not parse "${s}" as version`)
  const parts = m[1].split('.')
  if (parts.length !== 3) throw new Error(`illegal version string "${s}"`)
  for (const p of parts) {
    if (p.length > 1 && p.startsWith('0')) throw new Error(`illegal zero-prefixed version component "${p}" in "${s}"`)
  }
  const extra = /^(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$/.exec(m[2])
  if (!extra) throw new Error(`illegal version string "${s}"`)
  const pre = extra[1] ? extra[1].split('.') : []
  for (const id of pre) {
    if (/^[0-9]+$/.test(id) && id.length > 1 && id.startsWith('0')) throw new Error(`illegal zero-prefixed version component "${id}" in "${s}"`)
  }
  return {major: Number(parts[0]), minor: Number(parts[1]), patch: Number(parts[2]), preRelease: pre, buildMetadata: extra[2] ?? ''}
}

// ---------------------------------------------------------------- selectors

/** metav1.LabelSelectorAsSelector + Matches: does `selector` select `labels`? Throws when the selector is malformed. */
export function selectorMatches(selector, labels) {
  if (selector === null || selector === undefined) return false // a nil selector selects nothing
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false
  }
  for (const expr of selector.matchExpressions ?? []) {
    const values = expr.values ?? []
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key)
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) throw new Error("for 'in', 'notin' operators, values set can't be empty")
        if (expr.operator === 'In' ? !(has && values.includes(labels[expr.key])) : has && values.includes(labels[expr.key])) return false
        break
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) throw new Error('values set must be empty for exists and does not exist')
        if (expr.operator === 'Exists' ? !has : has) return false
        break
      default:
        throw new Error(`"${expr.operator}" is not a valid label selector operator`)
    }
  }
  return true
}

/** The first known os/arch a selector matches (findAnyMatchingPlatform), or undefined. */
export function anyMatchingPlatform(selector) {
  return KNOWN_PLATFORMS.find((p) => selectorMatches(selector, p))
}

/** The first platform of the plugin whose selector matches os/arch (installation.matchPlatform). */
export function matchPlatform(plugin, {os, arch}) {
  return plugin.spec.platforms.find((p) => selectorMatches(p.selector, {os, arch}))
}

// ---------------------------------------------------------------- validation

export function isSafePluginName(name) {
  return typeof name === 'string' && SAFE_PLUGIN_NAME.test(name) && !WINDOWS_FORBIDDEN.some((w) => w.toLowerCase() === name.toLowerCase())
}

function validateSelector(sel) {
  if (sel === null || sel === undefined) throw new Error('nil selector is not supported')
  if ((sel.matchLabels === undefined || sel.matchLabels === null) && (sel.matchExpressions ?? []).length === 0)
    throw new Error('empty selector is not supported')
  const keys = [...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => e.key)]
  for (const key of keys) {
    if (key !== 'os' && key !== 'arch') throw new Error(`key "${key}" not supported`)
  }
  if (sel.matchLabels && Object.keys(sel.matchLabels).length === 0) throw new Error('`matchLabels` specified but empty')
  if (sel.matchExpressions && sel.matchExpressions.length === 0) throw new Error('`matchExpressions` specified but empty')
}

function validateFiles(files) {
  if (files === undefined || files === null) return
  if (files.length === 0) throw new Error('`files` has to be unspecified or non-empty')
  for (const op of files) {
    if (!op.from) throw new Error('`from` field has to be set')
    if (!op.to) throw new Error('`to` field has to be set')
  }
}

function validatePlatform(p) {
  if (!p.uri) throw new Error('`uri` has to be set')
  if (!p.sha256) throw new Error('`sha256` sum has to be set')
  if (!SHA256.test(p.sha256)) throw new Error(`\`sha256\` value ${p.sha256} is not valid, must match pattern ^[a-f0-9]{64}$`)
  if (!p.bin) throw new Error('`bin` has to be set')
  try {
    validateFiles(p.files)
  } catch (err) {
    throw new Error(`\`files\` is invalid: ${err.message}`)
  }
  try {
    validateSelector(p.selector)
  } catch (err) {
    throw new Error(`invalid platform selector: ${err.message}`)
  }
}

/** krew's ValidatePlugin(name, plugin): throws the first problem found. */
export function validatePlugin(name, plugin) {
  if (plugin?.apiVersion !== API_VERSION)
    throw new Error(
      `plugin manifest has apiVersion="${plugin?.apiVersion}", not supported in this version of krew (try updating plugin index or install a newer version of krew)`,
    )
  if (plugin.kind !== PLUGIN_KIND) throw new Error(`plugin manifest has kind="${plugin.kind}", but only "${PLUGIN_KIND}" is supported`)
  if (!isSafePluginName(name)) throw new Error(`the plugin name "${name}" is not allowed, must match "^[\\w-]+$"`)
  const pluginName = plugin.metadata?.name
  if (pluginName !== name) throw new Error(`plugin should be named "${name}", not "${pluginName}"`)
  const spec = plugin.spec ?? {}
  if (!spec.shortDescription) throw new Error('should have a short description')
  if (/[\r\n]/.test(spec.shortDescription)) throw new Error('should not have line breaks in short description')
  if (!spec.platforms || spec.platforms.length === 0) throw new Error('should have a platform specified')
  if (!spec.version) throw new Error('should have a version specified')
  try {
    parseVersion(String(spec.version))
  } catch (err) {
    throw new Error(`failed to parse plugin version: ${err.message}`)
  }
  spec.platforms.forEach((p, i) => {
    try {
      validatePlatform(p)
    } catch (err) {
      throw new Error(`platform[${i}] is badly constructed: ${err.message}`)
    }
  })
}

/** Parses manifest text the way krew reads it (YAML into the Plugin struct; unknown fields are ignored). */
export function parseManifest(text) {
  const doc = yaml.load(text)
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('failed to parse yaml file: not a mapping')
  return doc
}

/**
 * validate-krew-manifest without its install step: the file name gives the plugin name
 * (`<name>.yaml`, as in krew-index/plugins/), ValidatePlugin, every platform selects some
 * os/arch krew knows, and no os/arch is selected by two platforms. Returns the plugin.
 */
export function validateManifestText(fileName, text) {
  const base = path.basename(fileName)
  const ext = path.extname(base)
  if (ext !== MANIFEST_EXTENSION) throw new Error(`expected manifest extension "${MANIFEST_EXTENSION}" but found "${ext}"`)
  const plugin = parseManifest(text)
  validatePlugin(base.slice(0, -ext.length), plugin)
  plugin.spec.platforms.forEach((p, i) => {
    if (!anyMatchingPlatform(p.selector))
      throw new Error(`spec.platform[${i}]'s selector (${JSON.stringify(p.selector)}) doesn't match any supported platforms`)
  })
  for (const env of KNOWN_PLATFORMS) {
    const hits = plugin.spec.platforms.flatMap((p, i) => (selectorMatches(p.selector, env) ? [i] : []))
    if (hits.length > 1)
      throw new Error(
        `overlapping platform selectors found: multiple spec.platforms (at indexes [${hits.join(' ')}]) have overlapping selectors that select (${env.os}/${env.arch})`,
      )
  }
  return plugin
}

/** Warnings validate-krew-manifest prints (line lengths) without failing. */
export function manifestWarnings(plugin) {
  const long = (s, max) => (s ?? '').split('\n').some((line) => line.length > max && line.trim().includes(' '))
  const out = []
  if (long(plugin.spec.description, 80)) out.push('line length in `description` exceeds 80 characters')
  if (long(plugin.spec.shortDescription, 70)) out.push('line length in `shortDescription` exceeds 70 characters')
  if (long(plugin.spec.caveats, 80)) out.push('line length in `caveats` exceeds 80 characters')
  return out
}

// ---------------------------------------------------------------- archives

function cstring(buf, start, length) {
  const field = buf.subarray(start, start + length)
  const nul = field.indexOf(0)
  return field.subarray(0, nul === -1 ? field.length : nul).toString('utf8')
}

function numeric(buf, start, length) {
  if (buf[start] & 0x80) {
    // GNU base-256
    let n = 0
    for (let i = start + 1; i < start + length; i++) n = n * 256 + buf[i]
    return n
  }
  const text = cstring(buf, start, length).trim()
  return text === '' ? 0 : parseInt(text, 8)
}

function paxRecords(data) {
  // Records are "LEN KEY=VALUE\n", LEN counting bytes of the whole record.
  const out = {}
  let offset = 0
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset)
    const len = Number(data.subarray(offset, space).toString('latin1'))
    if (space === -1 || !(len > 0) || offset + len > data.length) throw new Error('archive/tar: invalid header')
    const record = data.subarray(space + 1, offset + len - 1).toString('utf8')
    const eq = record.indexOf('=')
    out[record.slice(0, eq)] = record.slice(eq + 1)
    offset += len
  }
  return out
}

/**
 * The entries of a tar stream as Go's archive/tar returns them: pax extended headers and
 * GNU long names applied to the entry they precede; typeflag as a character ('0' regular,
 * '5' directory, '2' symlink, '1' hard link, 'g' pax global header, ...).
 */
export function readTar(buf) {
  const entries = []
  let offset = 0
  let pax = {}
  let longName
  while (offset + 512 <= buf.length) {
    const h = buf.subarray(offset, offset + 512)
    if (h.every((b) => b === 0)) break
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]
    if (sum !== numeric(h, 148, 8)) throw new Error('archive/tar: invalid header')
    let type = String.fromCharCode(h[156] || 48) // '\0' is an old-style regular file
    let name = cstring(h, 0, 100)
    const prefix = cstring(h, 257, 6).startsWith('ustar') ? cstring(h, 345, 155) : ''
    if (prefix) name = `${prefix}/${name}`
    let size = numeric(h, 124, 12)
    if (pax.size !== undefined) size = Number(pax.size)
    const data = buf.subarray(offset + 512, offset + 512 + size)
    offset += 512 + Math.ceil(size / 512) * 512
    if (type === 'x') {
      pax = {...pax, ...paxRecords(data)}
      continue
    }
    if (type === 'L') {
      longName = cstring(data, 0, data.length)
      continue
    }
    if (type === '0' && name.endsWith('/')) type = '5'
    entries.push({
      name: longName ?? pax.path ?? name,
      type,
      mode: numeric(h, 100, 8) & 0o7777,
      uid: pax.uid !== undefined ? Number(pax.uid) : numeric(h, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : numeric(h, 116, 8),
      uname: cstring(h, 265, 32),
      gname: cstring(h, 297, 32),
      mtime: pax.mtime !== undefined ? Number(pax.mtime) : numeric(h, 136, 12),
      linkname: pax.linkpath ?? cstring(h, 157, 100),
      size,
      data,
    })
    pax = {}
    longName = undefined
  }
  return entries
}

/** http.DetectContentType, reduced to the archive types krew accepts. */
export function detectArchiveType(buf) {
  if (buf.length >= 3 && buf[0] === 0x1f && buf[1] === 0x8b && buf[2] === 0x08) return 'application/x-gzip'
  if (buf.length >= 4 && buf.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'application/zip'
  return 'application/octet-stream'
}

function suspiciousPath(p) {
  if (p.includes('..')) throw new Error(`refusing to unpack archive with suspicious entry "${p}"`)
  if (p.startsWith('/') || p.startsWith('\\')) throw new Error(`refusing to unpack archive with absolute entry "${p}"`)
}

/** extractTARGZ: only directories and regular files; modes come from the archive (minus umask). */
export function extractTarGz(targetDir, archive) {
  let entries
  try {
    entries = readTar(gunzipSync(archive))
  } catch (err) {
    throw new Error(`failed to extract file: tar extraction error: ${err.message}`)
  }
  for (const e of entries) {
    if (e.name === 'pax_global_header') continue
    suspiciousPath(e.name)
    const p = path.join(targetDir, e.name)
    if (e.type === '5') {
      mkdirSync(p, {recursive: true, mode: e.mode})
    } else if (e.type === '0') {
      mkdirSync(path.dirname(p), {recursive: true, mode: 0o755})
      writeFileSync(p, e.data, {mode: e.mode, flag: 'w'})
    } else {
      throw new Error(`failed to extract file: unable to handle file type ${e.type.charCodeAt(0)} for "${e.name}" in tar`)
    }
  }
}

// ---------------------------------------------------------------- install

export function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex')
}

function isSubPath(base, sub) {
  const rel = path.relative(base, sub)
  return !rel.startsWith('..') && !path.isAbsolute(rel)
}

/** filepath.Glob for a pattern relative to dir (`*`, `?` and `[...]` within one path element). */
function glob(dir, pattern) {
  const toRegExp = (seg) =>
    new RegExp(
      `^${seg
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    )
  let found = [dir]
  for (const seg of pattern.split('/').filter((s) => s !== '' && s !== '.')) {
    const next = []
    for (const d of found) {
      if (!/[*?[]/.test(seg)) {
        if (existsSync(path.join(d, seg))) next.push(path.join(d, seg))
        continue
      }
      let names = []
      try {
        names = readdirSync(d).sort()
      } catch {
        continue
      }
      const re = toRegExp(seg)
      for (const n of names) if (re.test(n)) next.push(path.join(d, n))
    }
    found = next
  }
  return found
}

/** findMoveTargets + getDirectMove of internal/installation/move.go. */
function moveTargets(fromDir, toDir, fo) {
  if (fo.to !== path.normalize(fo.to).replace(/\/$/, '')) throw new Error(`the provided path is not clean, "${fo.to}" should be "${path.normalize(fo.to)}"`)
  const direct = path.normalize(path.join(fromDir, fo.from))
  if (existsSync(direct)) {
    const to = path.resolve(toDir, path.normalize(fo.to) === '.' ? path.basename(direct) : fo.to)
    if (!isSubPath(fromDir, direct) || !isSubPath(toDir, to))
      throw new Error(`can't move, move target ${direct} -> ${to} is out of bounds from="${fromDir}", to="${toDir}"`)
    return [{from: direct, to}]
  }
  const newDir = path.resolve(toDir, fo.to)
  const matches = glob(fromDir, fo.from)
  if (matches.length === 0) throw new Error(`no files in the plugin archive matched the glob pattern=${fo.from}`)
  return matches.map((from) => {
    const to = path.join(newDir, path.basename(from))
    if (!isSubPath(fromDir, from) || !isSubPath(toDir, to))
      throw new Error(`can't move, move target ${from} -> ${to} is not a subpath from="${fromDir}", to="${toDir}"`)
    return {from, to}
  })
}

function renameReplacing(from, to) {
  if (existsSync(to) && statSync(to).isDirectory()) rmSync(to, {recursive: true, force: true})
  renameSync(from, to)
}

/** pluginNameToBin: the link name kubectl looks up (dashes become underscores). */
export function pluginBinName(name, os = process.platform === 'win32' ? 'windows' : process.platform) {
  return `kubectl-${name.replace(/-/g, '_')}${os === 'windows' ? '.exe' : ''}`
}

/**
 * `kubectl krew install --manifest=MANIFEST --archive=ARCHIVE` with KREW_ROOT=krewRoot and
 * KREW_OS/KREW_ARCH = os/arch: read and validate the manifest, pick the platform, verify
 * the archive's sha256, extract it, apply `files` into store/<name>/<version>, link
 * bin/kubectl-<name> to `bin`, store the receipt. Returns the paths involved.
 */
export function krewInstall({manifest, archive, krewRoot, os, arch}) {
  const text = readFileSync(manifest, 'utf8')
  const plugin = parseManifest(text)
  validatePlugin(plugin.metadata?.name, plugin)
  const name = plugin.metadata.name
  const receipt = path.join(krewRoot, 'receipts', `${name}.yaml`)
  if (existsSync(receipt)) throw new Error("can't install, the newest version is already installed")
  const platform = matchPlatform(plugin, {os, arch})
  if (!platform) throw new Error(`plugin "${name}" does not offer installation for this platform`)

  const data = readFileSync(archive)
  const actual = sha256(data)
  if (actual !== platform.sha256.toLowerCase()) {
    throw new Error(
      `install failed: failed to unpack into staging dir: failed to unpack the plugin archive: checksum does not match, want: ${platform.sha256}, got ${actual}`,
    )
  }
  const type = detectArchiveType(data)
  if (type !== 'application/x-gzip')
    throw new Error(`mime type "${type}" for archive file is not a supported archive format${type === 'application/zip' ? ' (zip: not simulated here)' : ''}`)

  const staging = mkdtempSync(path.join(tmpdir(), 'krew-downloads'))
  const moveDir = mkdtempSync(path.join(tmpdir(), 'krew-temp-move'))
  chmodSync(moveDir, 0o755)
  const installDir = path.join(krewRoot, 'store', name, String(plugin.spec.version))
  try {
    extractTarGz(staging, data)
    const files = platform.files ?? [{from: '*', to: '.'}]
    for (const fo of files) {
      for (const m of moveTargets(staging, moveDir, fo)) {
        mkdirSync(path.dirname(m.to), {recursive: true, mode: 0o755})
        renameReplacing(m.from, m.to)
      }
    }
    mkdirSync(path.dirname(installDir), {recursive: true, mode: 0o755})
    renameReplacing(moveDir, installDir)
  } finally {
    rmSync(staging, {recursive: true, force: true})
    rmSync(moveDir, {recursive: true, force: true})
  }

  const binPath = path.join(installDir, platform.bin)
  if (!isSubPath(installDir, path.resolve(binPath))) throw new Error(`the fullPath "${binPath}" does not extend the sub-fullPath "${installDir}"`)
  const binDir = path.join(krewRoot, 'bin')
  mkdirSync(binDir, {recursive: true, mode: 0o755})
  const link = path.join(binDir, pluginBinName(name, os))
  if (existsSync(link) || isSymlink(link)) {
    if (!isSymlink(link)) throw new Error(`file "${link}" is not a symlink`)
    rmSync(link)
  }
  if (!existsSync(binPath))
    throw new Error(`failed to link installed plugin: can't create symbolic link, source binary ("${binPath}") cannot be found in extracted archive`)
  symlinkSync(path.relative(binDir, binPath), link)

  mkdirSync(path.dirname(receipt), {recursive: true})
  writeFileSync(receipt, yaml.dump({...plugin, status: {source: {name: 'detached'}}}, {lineWidth: -1}))
  return {plugin, platform, installDir, binPath, link, binDir}
}

function isSymlink(p) {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

/** validateLicenseFileExists: some regular file under $KREW_ROOT/store is named like a license. */
export function findInstalledLicense(krewRoot) {
  const files = []
  const walk = (dir) => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) files.push(p)
    }
  }
  walk(path.join(krewRoot, 'store'))
  const license = files.find((f) => LICENSE_FILES.has(path.basename(f).toLowerCase()))
  if (!license)
    throw new Error(
      `LICENSE (or alike) file is not extracted from the archive as part of installation: could not find license file among [${files.map((f) => path.basename(f)).join(', ')}]`,
    )
  return license
}

/**
 * The install step of validate-krew-manifest, with local archives instead of downloads:
 * for every platform, install (as the first os/arch it selects) into a fresh KREW_ROOT and
 * require a LICENSE and an executable bin. `archives` maps each platform uri to a local file
 * (skipMissing: leave out platforms without one).
 */
export function validateManifestInstalls(manifest, archives, {skipMissing = false} = {}) {
  const plugin = parseManifest(readFileSync(manifest, 'utf8'))
  return plugin.spec.platforms.flatMap((p, i) => {
    const env = anyMatchingPlatform(p.selector)
    if (!env) throw new Error(`no supported platform matched platform selector: ${JSON.stringify(p.selector)}`)
    const archive = archives[p.uri]
    if (!archive && skipMissing) return []
    if (!archive) throw new Error(`spec.platforms[${i}]: no local archive for ${p.uri}`)
    const krewRoot = mkdtempSync(path.join(tmpdir(), 'krew-test'))
    try {
      const r = krewInstall({manifest, archive, krewRoot, ...env})
      const license = findInstalledLicense(krewRoot)
      const mode = statSync(r.binPath).mode
      if ((mode & 0o111) === 0) throw new Error(`spec.platforms[${i}]: bin ${p.bin} is not executable (mode ${(mode & 0o777).toString(8)})`)
      return [{index: i, ...env, bin: p.bin, license: path.relative(r.installDir, license), files: readdirSync(r.installDir).sort()}]
    } finally {
      rmSync(krewRoot, {recursive: true, force: true})
    }
  })
}
