// The FINDINGS section: severity, message and id, then evidence, wrapped to the width; grouped under
// their Service when they are about several.
import type {ChalkInstance} from 'chalk'
import type {Finding} from '../core/model.js'
import {hanging, labelled} from './layout.js'
import {noteText} from './notes.js'
import {clean} from './style.js'
import {addTo} from '../core/group.js'

const LABEL: Record<Finding['severity'], string> = {error: 'ERROR', warning: 'WARNING', info: 'INFO'}
// Two spaces, the widest label, two spaces: where messages and evidence start.
const GUTTER = '  ' + ' '.repeat('WARNING'.length) + '  '

function severityLabel(f: Finding, c: ChalkInstance): string {
  const text = LABEL[f.severity].padEnd('WARNING'.length)
  return f.severity === 'error' ? c.red(text) : f.severity === 'warning' ? c.yellow(text) : c.cyan(text)
}

/**
 * A shell command laid out to the width: broken only between words outside quotes, each break ending
 * in ` \\`, so the lines still paste as one command.
 */
export function shellLines(command: string, indent: string, width: number): string[] {
  const words = command.match(/(?:[^\s']+|'[^']*')+/g) ?? [command]
  const lines: string[] = []
  let current = ''
  for (const word of words) {
    const prefix = lines.length === 0 ? indent : `${indent}    `
    if (current && prefix.length + current.length + 1 + word.length + 2 > width) {
      lines.push(`${prefix}${current} \\`)
      current = word
    } else current = current ? `${current} ${word}` : word
  }
  lines.push(`${lines.length === 0 ? indent : `${indent}    `}${current}`)
  return lines
}

/** One finding: its message and id, then each evidence line, wrapped under the message. */
function findingLines(f: Finding, width: number, c: ChalkInstance, indent: string): string[] {
  const pad = indent + GUTTER
  // The id never holds a space, so wrapping leaves it whole on the last line, where it is dimmed.
  const lines = hanging(pad, `${clean(f.message)}  (${f.id})`, width)
  const last = lines.length - 1
  lines[last] = (lines[last] ?? '').replace(`(${f.id})`, c.dim(`(${f.id})`))
  lines[0] = `${indent}  ${severityLabel(f, c)}  ${(lines[0] ?? '').slice(pad.length)}` // the label fills the gutter
  for (const e of [...(f.evidence ?? []), ...(f.notes ?? []).map(noteText)]) lines.push(...hanging(`${pad}· `, clean(e), width, c.dim))
  if (f.fix) {
    lines.push(...labelled(pad, 'fix: ', `${c.dim('fix:')} `, clean(f.fix.text), width))
  }
  if (f.fix?.command) lines.push(...shellLines(clean(f.fix.command), `${pad}  `, width))
  return lines
}

/** True when the findings are about more than one Service (or about a Service and the cluster): then they are grouped. */
export function aboutSeveralServices(findings: Finding[]): boolean {
  return new Set(findings.map((f) => f.service ?? '')).size > 1
}

/** Findings under a FINDINGS heading; `grouped` puts them under their Service (cluster-wide ones last). */
export function findingsSection(findings: Finding[], width: number, c: ChalkInstance, grouped: boolean): string {
  return [...findingsPieces(findings, width, c, grouped)].join('')
}

/**
 * findingsSection's text in pieces, a finding (or a Service's group) at a time: check mode on a big
 * cluster lists thousands, and lines made and written a group at a time die young instead of adding
 * up to the whole section before it is written.
 */
export function* findingsPieces(findings: Finding[], width: number, c: ChalkInstance, grouped: boolean): Generator<string, void, void> {
  if (findings.length === 0) {
    yield c.green('No findings.')
    return
  }
  yield c.bold('FINDINGS')
  if (!grouped) {
    for (const f of findings) yield `\n${findingLines(f, width, c, '').join('\n')}`
    return
  }
  const groups = new Map<string, Finding[]>()
  for (const f of findings) addTo(groups, f.service ?? '', f)
  const keys = [...groups.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
  for (const key of keys) {
    const lines = [`  ${c.bold(clean(key || 'nodes and cluster'))}`]
    for (const f of groups.get(key) ?? []) lines.push(...findingLines(f, width, c, '  '))
    yield `\n${lines.join('\n')}`
  }
}
