// kubectl-like tables: no borders, two spaces between columns, each line indented by two.
import Table from 'cli-table3'

const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

/** The rows under the header, as text indented by two spaces (cells may hold several lines). */
export function borderlessTable(head: string[], rows: string[][]): string {
  const t = new Table({head, chars: BORDERLESS, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}, wordWrap: false})
  t.push(...rows)
  return t
    .toString()
    .split('\n')
    .map((l) => `  ${l.trimEnd()}`)
    .join('\n')
}
