// kubectl's -v=N habit on a boolean -v/--verbose: oclif has no flag with an optional value, so the
// level forms are rewritten before parsing. svctrace has one level of detail: any N above 0 turns it
// on, 0 leaves it off. A Service name starts with a letter, so `-v 6` is a level, not a Service.

/** The argv for oclif, with every -v level form made `--verbose` (or dropped for 0). */
export type VerbosityArgs = {argv: string[]} | {error: string}

const LEVEL_FLAG = /^(?:-v|--v|--verbose)=(.*)$/
const LEVEL = /^\d{1,2}$/

/** Rewrites `-v=6`, `--v=6`, `--verbose=6`, `-v6`, `-v 6` and `--v 6`; stops at `--`. */
export function verbosityArgs(argv: readonly string[]): VerbosityArgs {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    let level: string | undefined
    const given = LEVEL_FLAG.exec(arg)
    if (given) level = given[1] ?? ''
    else if (/^-v\d+$/.test(arg)) level = arg.slice(2)
    else if ((arg === '-v' || arg === '--v') && LEVEL.test(argv[i + 1] ?? '')) level = argv[++i]
    else if (arg === '--v') level = '1'
    if (level === undefined) {
      out.push(arg)
      continue
    }
    if (!LEVEL.test(level)) return {error: `${arg}: give -v (or --verbose), or a level as kubectl takes it (-v=6)`}
    if (Number(level) > 0) out.push('--verbose')
  }
  return {argv: out}
}
