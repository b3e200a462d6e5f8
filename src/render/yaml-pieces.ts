// yaml.dump(value, {noRefs: true, lineWidth: -1}), made a piece at a time, as jsonPieces does for
// JSON. The outer mappings and sequences are laid out here the way js-yaml's block style lays them
// out; each member below them is dumped by js-yaml itself, so scalars are quoted as js-yaml quotes them.
import yaml from 'js-yaml'

const OPTIONS: yaml.DumpOptions = {noRefs: true, lineWidth: -1}

// js-yaml writes a key longer than 1024 characters as an explicit `? key`; such a mapping is dumped whole.
const LONGEST_KEY = 100

const pad = (level: number) => '  '.repeat(level)

/**
 * A mapping or sequence js-yaml writes in block style, one member per line: a plain array with an
 * element, a plain object with a member that is not undefined (undefined members are left out,
 * and a mapping left empty is `{}`).
 */
function openable(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return value.length > 0
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) return false
  const entries = Object.entries(value)
  return entries.some(([, v]) => v !== undefined) && entries.every(([k]) => k.length <= LONGEST_KEY)
}

/**
 * Lines after the first moved `levels` deeper. js-yaml indents every line of a member by its depth
 * (a literal block scalar's too), except the empty lines of a block scalar, which stay empty.
 */
function deeper(text: string, levels: number): string {
  return levels === 0 ? text : text.replace(/\n(?=[^\n])/g, `\n${pad(levels)}`)
}

/**
 * `value` as js-yaml writes it at `level` (level ≥ 1): as a sequence element (compact: a mapping's
 * first key on the dash's line) or as a mapping's value (its block starts on a new line).
 */
function member(value: unknown, level: number, compact: boolean): string {
  // Dumped at level 1 inside a one-element wrapper, whose own text is taken off: `- …` or `x:…`.
  const wrapped = compact ? yaml.dump([value], OPTIONS) : yaml.dump({x: value}, OPTIONS)
  const text = compact ? wrapped.slice(wrapped.startsWith('- ') ? 2 : 1, -1) : wrapped.slice(wrapped.startsWith('x: ') ? 3 : 2, -1)
  return deeper(text, level - 1)
}

/** A mapping key as js-yaml writes it (quoted when it has to be). */
function keyText(key: string): string {
  return yaml.dump({[key]: null}, OPTIONS).slice(0, -': null\n'.length)
}

/** The pieces of a block mapping or sequence at `level`, opening members `levels` deep. */
function* blockPieces(value: object, level: number, compact: boolean, levels: number): Generator<string> {
  let first = true
  const entries: Array<[string | undefined, unknown]> = Array.isArray(value) ? value.map((v: unknown) => [undefined, v]) : Object.entries(value)
  for (const [key, child] of entries) {
    if (key !== undefined && child === undefined) continue
    const start = `${first && compact ? '' : `\n${pad(level)}`}${key === undefined ? '- ' : keyText(key)}`
    first = false
    if (levels > 1 && openable(child)) {
      // A sequence element's mapping starts on the dash's line; a mapping's value, on the next line.
      yield key === undefined ? start : `${start}:`
      yield* blockPieces(child, level + 1, key === undefined, levels - 1)
      continue
    }
    const text = member(child, level + 1, key === undefined)
    yield key === undefined ? `${start}${text}` : `${start}${text.startsWith('\n') ? ':' : ': '}${text}`
  }
}

/**
 * The pieces of yaml.dump(value, {noRefs: true, lineWidth: -1}): joined, they are that string byte
 * for byte. Mappings and sequences `levels` deep (the value itself is level 1) are opened; their
 * members are dumped one by one.
 */
export function* yamlPieces(value: unknown, levels: number): Generator<string> {
  if (levels <= 0 || !openable(value)) {
    yield yaml.dump(value, OPTIONS)
    return
  }
  yield* blockPieces(value, 0, true, levels)
  yield '\n'
}
