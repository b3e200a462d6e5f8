// A small deterministic tar.gz writer for the release archives: ustar headers, entries in
// byte order of their names, fixed mtime (SOURCE_DATE_EPOCH or 0), uid/gid 0 without user
// or group names, no directory entries unless asked for, gzip without a name or a time
// stamp. The same entries always give the same bytes, on any machine with this Node.
import {gzipSync} from 'node:zlib'

const BLOCK = 512
const RECORD = 20 * BLOCK // GNU tar's default blocking factor: archives end on a 10 KiB boundary
const TYPES = {file: '0', hardlink: '1', symlink: '2', dir: '5'}

/** The fixed modification time of every entry: $SOURCE_DATE_EPOCH when set, else 0 (1970-01-01). */
export function defaultMtime() {
  const env = process.env.SOURCE_DATE_EPOCH
  if (env === undefined || env === '') return 0
  if (!/^\d+$/.test(env)) throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds, not "${env}"`)
  return Number(env)
}

function octal(value, width) {
  const digits = value.toString(8)
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width - 1} octal digits`)
  return digits.padStart(width - 1, '0') + '\0'
}

function put(header, offset, width, text) {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length > width) throw new Error(`tar: "${text}" is longer than ${width} bytes`)
  bytes.copy(header, offset)
}

/**
 * One ustar header block. entry: {name, type ('file' | 'dir' | 'symlink' | 'hardlink'),
 * mode, size, linkname}. Only 'file' is used for releases; the others exist so tests can
 * build the archives krew must refuse.
 */
function header(entry, mtime) {
  const type = TYPES[entry.type ?? 'file']
  if (type === undefined) throw new Error(`tar: unknown entry type ${entry.type}`)
  const h = Buffer.alloc(BLOCK, 0)
  put(h, 0, 100, entry.name)
  put(h, 100, 8, octal(entry.mode, 8))
  put(h, 108, 8, octal(0, 8)) // uid
  put(h, 116, 8, octal(0, 8)) // gid
  put(h, 124, 12, octal(entry.size, 12))
  put(h, 136, 12, octal(mtime, 12))
  put(h, 148, 8, '        ') // checksum field counts as spaces while summing
  put(h, 156, 1, type)
  put(h, 157, 100, entry.linkname ?? '')
  put(h, 257, 6, 'ustar\0')
  put(h, 263, 2, '00')
  // uname/gname stay empty (like --numeric-owner), devmajor/devminor zero
  put(h, 329, 8, octal(0, 8))
  put(h, 337, 8, octal(0, 8))
  let sum = 0
  for (const byte of h) sum += byte
  put(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ')
  return h
}

/**
 * The tar stream for entries [{name, data?, mode, type?, linkname?}], sorted by name.
 * Names must be relative, at most 100 bytes, and unique.
 */
export function tar(entries, {mtime = defaultMtime()} = {}) {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
  const parts = []
  let previous
  for (const entry of sorted) {
    if (entry.name === previous) throw new Error(`tar: duplicate entry ${entry.name}`)
    previous = entry.name
    const type = entry.type ?? 'file'
    const data = type === 'file' ? Buffer.from(entry.data ?? '') : Buffer.alloc(0)
    parts.push(header({...entry, type, size: data.length}, mtime))
    if (data.length > 0) {
      parts.push(data)
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK
      if (pad > 0) parts.push(Buffer.alloc(pad, 0))
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0)) // end-of-archive marker
  let length = parts.reduce((n, p) => n + p.length, 0)
  const tail = (RECORD - (length % RECORD)) % RECORD
  if (tail > 0) parts.push(Buffer.alloc(tail, 0))
  length += tail
  return Buffer.concat(parts, length)
}

/**
 * gzip with no file name and no time stamp (like `gzip -n`); OS byte fixed to 3 (Unix) on every
 * host. Level 6, gzip's default: level 9 takes twice as long on the 87 MB executable for 0.3 % less.
 */
export function gzip(buffer) {
  const out = gzipSync(buffer, {level: 6})
  out[9] = 3
  return out
}

/** tar + gzip: the bytes of a release archive. */
export function tarGz(entries, options) {
  return gzip(tar(entries, options))
}
