// The default output: the answer to a Service or address query, or check mode's summary; -o wide
// shows every node and hop. Everything is laid out to the terminal's width.
import type {Report} from '../core/model.js'
import {renderCheckView} from './check-view.js'
import {DEFAULT_WIDTH, usableWidth} from './layout.js'
import {answerHeader, renderServiceView} from './service-view.js'
import {paint, type Style} from './style.js'
import {renderWideView} from './wide-view.js'

/** Renders the report as text for a terminal or a pipe; notices (how nodes were read) go before the findings. */
export function renderTable(report: Report, style: Style, notices: string[] = []): string {
  const width = usableWidth(style.width ?? DEFAULT_WIDTH)
  const laid = {...style, width}
  if (report.query.kind === 'all') return renderCheckView(report, laid, notices)
  if (!style.wide) return renderServiceView(report, laid, notices)
  return renderWideView(report, laid, answerHeader(report, width, paint(style)), notices)
}
