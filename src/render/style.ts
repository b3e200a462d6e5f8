// How output is styled: decided once by the command, passed to every renderer.
import {Chalk, type ChalkInstance} from 'chalk'

export interface Style {
  color: boolean
  /** Every node and every hop (-o wide). */
  wide: boolean
  /** Columns to lay out to (the terminal's, else COLUMNS, else 80). */
  width?: number
  /** Box-drawing characters and arrows (-o tree): the command sets it when the locale is UTF-8. */
  unicode?: boolean
}

/** A chalk instance for this render only; level 0 prints no escape codes. */
export function paint(style: Style): ChalkInstance {
  return new Chalk({level: style.color ? 1 : 0})
}

// Everything that is not visible text: C0 controls (tab and newline included: a name from the cluster
// must stay on its row), DEL, C1 controls, and the invisible format characters that reorder or hide
// text (bidi embeddings, overrides and isolates, zero-width characters, line/paragraph separators,
// BOM): an object name or rule comment must not move the cursor, clear the screen, retitle the
// terminal, or show one text while holding another.
const INVISIBLE = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff'
const CONTROL = new RegExp(`[${INVISIBLE}]`, 'g')
const CONTROL_BUT_NEWLINE = new RegExp(`[${INVISIBLE.replace('\\u0000-\\u001f', '\\u0000-\\u0009\\u000b-\\u001f')}]`, 'g')

/** Replaces control and invisible format characters with `?` so cluster-supplied text cannot drive or disguise the terminal. */
export function clean(text: string): string {
  return text.replace(CONTROL, '?')
}

/** clean() for a text whose own line breaks are meant (an error message of several lines). */
export function cleanLines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, '?')
}
