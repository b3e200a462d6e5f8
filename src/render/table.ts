// The default output: the answer to a Service or address query, or check mode's summary; -o wide
// shows every node and hop. Everything is laid out to the terminal's width.
import type {ChalkInstance} from 'chalk'
import type {Report} from '../core/model.js'
import {checkViewPieces} from './check-view.js'
import {DEFAULT_WIDTH, hanging, usableWidth} from './layout.js'
import {answerHeader, renderServiceView} from './service-view.js'
import {clean, paint, type Style} from './style.js'
import {renderWideView} from './wide-view.js'
import {plural} from './words.js'

/** Renders the report as text for a terminal or a pipe; notices (how nodes were read) go before the findings. */
export function renderTable(report: Report, style: Style, notices: string[] = []): string {
  return [...renderTablePieces(report, style, notices)].join('')
}

/** renderTable's text in pieces: check mode's findings a Service at a time (checkViewPieces), one piece otherwise. */
export function* renderTablePieces(report: Report, style: Style, notices: string[] = []): Generator<string, void, void> {
  const width = usableWidth(style.width ?? DEFAULT_WIDTH)
  const laid = {...style, width}
  const c = paint(style)
  yield partialBanner(report, width, c)
  if (report.query.kind === 'all') yield* checkViewPieces(report, laid, notices)
  else yield !style.wide ? renderServiceView(report, laid, notices) : renderWideView(report, laid, answerHeader(report, width, c), notices)
}

/** First thing on screen when the run was interrupted: the answer below is incomplete, and why. */
function partialBanner(report: Report, width: number, c: ChalkInstance): string {
  if (!report.partial) return ''
  const missing = report.partial.nodes.map(clean).join(', ')
  const answered = report.nodes.length - report.partial.nodes.length
  const rest = answered > 0 ? `what follows is what the other ${plural(answered, 'node')} showed` : 'no node answered: what follows comes from the API only'
  return `${hanging('', `PARTIAL: the run was interrupted before ${missing} answered; ${rest}.`, width, (l) => c.bold.yellow(l)).join('\n')}\n\n`
}
