// JSON.stringify(value, null, 2), made a piece at a time so that a report of 10,000 Services is
// written as it is made instead of as one string of hundreds of megabytes. The outer containers are
// opened here; each member below them is stringified whole and re-indented.

const GAP = '  '

/** Plain arrays and objects are opened; anything with toJSON (Date) or another prototype is stringified whole. */
function openable(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || typeof (value as {toJSON?: unknown}).toJSON === 'function') return false
  const proto = Object.getPrototypeOf(value) as unknown
  return Array.isArray(value) || proto === Object.prototype || proto === null
}

/**
 * `value` as JSON.stringify(value, null, 2) at `indent`, or undefined where it writes nothing (an
 * undefined, a function, a symbol). Its text never holds a raw line feed inside a string (they are
 * escaped), so every line feed is a line break to indent.
 */
function stringified(value: unknown, indent: string): string | undefined {
  const text = JSON.stringify(value, null, 2) as string | undefined
  return text === undefined || indent === '' ? text : text.replaceAll('\n', `\n${indent}`)
}

/**
 * The pieces of JSON.stringify(value, null, 2) of an object or array: joined, they are that string byte for byte.
 * Containers `levels` deep (the value itself is level 1) are opened; their members are
 * stringified one by one, so no piece is larger than the largest member below that level.
 */
export function* jsonPieces(value: unknown, levels: number, indent = ''): Generator<string> {
  if (levels <= 0 || !openable(value)) {
    yield stringified(value, indent) ?? 'null'
    return
  }
  const inner = indent + GAP
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield '[]'
      return
    }
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? `[\n${inner}` : `,\n${inner}`
      // An undefined, function or symbol element is null, as JSON.stringify writes it.
      yield* jsonPieces(value[i], levels - 1, inner)
    }
    yield `\n${indent}]`
    return
  }
  let opened = false
  for (const [key, member] of Object.entries(value)) {
    const open = levels > 1 && openable(member)
    const text = open ? undefined : stringified(member, inner)
    // JSON.stringify leaves out a member that is undefined, a function or a symbol.
    if (!open && text === undefined) continue
    yield `${opened ? ',' : '{'}\n${inner}${JSON.stringify(key)}: `
    opened = true
    if (text === undefined) yield* jsonPieces(member, levels - 1, inner)
    else yield text
  }
  yield opened ? `\n${indent}}` : '{}'
}
