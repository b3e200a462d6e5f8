// -o: which renderer turns the report into text. The terminal facts (colour, width, UTF-8) are
// decided here, once, and handed to the renderer in its style.
import type {Report} from '../core/model.js'
import {renderDot} from '../render/dot.js'
import {renderMermaid} from '../render/mermaid.js'
import type {Style} from '../render/style.js'
import {renderJsonPieces, renderYamlPieces} from '../render/structured.js'
import {renderTablePieces} from '../render/table.js'
import {renderTree} from '../render/tree.js'

/** The -o formats. */
export type OutputFormat = 'table' | 'wide' | 'tree' | 'json' | 'yaml' | 'dot' | 'mermaid'

/**
 * Whether the locale's character set is UTF-8, as the C library decides it: the first of LC_ALL,
 * LC_CTYPE and LANG that is set and not empty (`en_US.UTF-8`, `C.utf8`); anything else is ASCII.
 */
export function isUtf8Locale(env: NodeJS.ProcessEnv): boolean {
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v !== '') ?? ''
  return /utf-?8/i.test(locale)
}

/**
 * The report in the format asked for, as pieces to write in turn (-o json and -o yaml are made
 * piece by piece, and check mode's table a Service's findings at a time; the others are one string);
 * `notices` (how nodes were read) go where the table prints them.
 */
export function renderOutput(format: OutputFormat, report: Report, style: Style, notices: string[]): Iterable<string> {
  switch (format) {
    case 'json':
      return renderJsonPieces(report)
    case 'yaml':
      return renderYamlPieces(report)
    case 'tree':
      return [renderTree(report, style)]
    case 'dot':
      return [renderDot(report)]
    case 'mermaid':
      return [renderMermaid(report)]
    default:
      return renderTablePieces(report, {...style, wide: format === 'wide'}, notices)
  }
}
