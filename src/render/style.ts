// How output is styled: decided once by the command, passed to every renderer.
import {Chalk, type ChalkInstance} from 'chalk'

export interface Style {
  color: boolean
  /** Every node and every hop (-o wide). */
  wide: boolean
  /** Columns to lay out to (the terminal's, else COLUMNS, else 80). */
  width?: number
}

/** A chalk instance for this render only; level 0 prints no escape codes. */
export function paint(style: Style): ChalkInstance {
  return new Chalk({level: style.color ? 1 : 0})
}

// C0 controls (but tab and newline), DEL and C1 controls: an object name or comment from the
// cluster must not move the cursor, clear the screen or retitle the terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Replaces control characters with `?` so cluster-supplied text cannot drive the terminal. */
export function clean(text: string): string {
  return text.replace(CONTROL, '?')
}
