// What a server (fake API server, sshd's recorder) checks a compound node read against: the script must
// be exactly batch.ts's prologue for its marker, then only step lines (`f ID CMD` / `g ID CMD` whose
// command is on the allow-list: iptables and ip6tables alike, IPv6 steps named `nat6:…`, `whole6:…`;
// `k ID "PATTERN" CMD` whose pattern keeps only chain names), `if`/`elif` tests of a step's output or
// exit, `else` and `fi`.
// Anything else and it is not a compound command svctrace could have sent.
import {compoundCommand} from '../../src/adapters/node/batch.js'
import {ALLOWED, type NodeCommandId} from '../../src/adapters/node/commands.js'

const TEST = /^(if|elif) (has "[A-Za-z0-9_.:() -]+"( \|\| has "[A-Za-z0-9_.:() -]+")*|\[ "\$r" != 0 \]|\[ "\$r" = 0 \] && \[ \$\{#o\} -le \d+ \]|:)$/
const NAMES = '(?:KUBE-[A-Z0-9-]{1,60}|PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)(?:\\|(?:KUBE-[A-Z0-9-]{1,60}|PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING))*'
// f/g ID CMD, or k ID "PATTERN" CMD where PATTERN is keepPattern's: kept chain names only (and the
// `([[][0-9]+:[0-9]+] )?` that lets iptables-save -c's counter prefix through).
const STEP = new RegExp(
  `^(?:(?:then|else) )?(?:[fg] [A-Za-z0-9_:-]+|k [A-Za-z0-9_:-]+ "\\^\\(\\[\\*\\]\\|COMMIT\\|:\\((${NAMES})\\) \\|(?:\\(\\[\\[\\]\\[0-9\\]\\+:\\[0-9\\]\\+\\] \\)\\?)?-A \\((${NAMES})\\) \\)") (?:sudo -n )?(.+)$`,
)

function allowListed(line: string): boolean {
  return line.split(' ').every((w) => /^[A-Za-z0-9_./:=@%+-]+$/.test(w)) && (Object.keys(ALLOWED) as NodeCommandId[]).some((id) => ALLOWED[id].test(line))
}

/** The allow-listed command lines of a compound script, in order; undefined when it is not one. */
export function compoundLines(script: string): string[] | undefined {
  const nonce = /^M=([a-f0-9]{16,64}); /.exec(script)?.[1]
  if (!nonce) return undefined
  const empty = compoundCommand([], false, nonce).script
  const prefix = empty.slice(0, empty.lastIndexOf('; ; } | cat') + 2)
  if (!script.startsWith(prefix) || !script.endsWith('; } | cat')) return undefined
  const body = script.slice(prefix.length, -'; } | cat'.length)
  const lines: string[] = []
  for (const part of body.split('; ')) {
    if (part === 'fi' || part === 'then :' || part === 'else :' || TEST.test(part)) continue
    const step = STEP.exec(part)
    const line = step?.[3]
    if (!line || !allowListed(line) || step[1] !== step[2]) return undefined
    lines.push(line)
  }
  return lines
}
