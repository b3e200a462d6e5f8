// The next step for a mistyped flag or finding id: "did you mean …", and the valid choices one per line.
import {closestWords} from '../core/did-you-mean.js'

interface FlagLike {
  char?: string
  aliases?: string[]
}

/** Every spelling a flag table accepts: `--name`, `--alias`, `-c`. */
function spellings(flags: Record<string, FlagLike>): string[] {
  return Object.entries(flags).flatMap(([name, f]) => [`--${name}`, ...(f.aliases ?? []).map((a) => `--${a}`), ...(f.char ? [`-${f.char}`] : [])])
}

/**
 * oclif's "Nonexistent flag: --nodse" with the flags it was probably meant to be; other messages as
 * they are.
 */
export function withFlagSuggestion(message: string, flags: Record<string, FlagLike>): string {
  const typed = /^Nonexistent flags?: (.+)$/m.exec(message)?.[1]
  if (typed === undefined) return message
  // Compared without the dashes, which every long flag shares.
  const known = spellings(flags)
    .filter((s) => s.startsWith('--'))
    .map((s) => s.slice(2))
  const hints = typed
    .split(/,\s*/)
    .map((word) => ({word, near: closestWords((word.split('=')[0] ?? word).replace(/^-+/, ''), known).map((n) => `--${n}`)}))
    .filter((h) => h.near.length > 0)
    .map((h) => `${h.word}: did you mean ${h.near.join(' or ')}?`)
  return hints.length > 0 ? `${message}\n${hints.join('\n')}` : message
}

/**
 * `--explain nope: no finding "nope"; did you mean …?` and the known ids, one per line, for a
 * finding id the catalogue does not have.
 */
export function unknownFindingMessage(flag: string, ids: string[], known: readonly string[]): string {
  const near = [...new Set(ids.flatMap((id) => closestWords(id, known)))]
  const head = `${flag}: no finding ${ids.map((id) => `"${id}"`).join(', ')}`
  const hint = near.length > 0 ? `; did you mean ${near.join(' or ')}?` : ''
  return `${head}${hint}\nfinding ids (kubectl svctrace --explain ID tells what each means):\n${known.map((k) => `  ${k}`).join('\n')}`
}
