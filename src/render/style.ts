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

// C0 controls (but tab and newline), DEL and C1 controls: an object name or comment from the
// cluster must not move the cursor, clear the screen or retitle the terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Replaces control characters with `?` so cluster-supplied text cannot drive the terminal. */
export function clean(text: string): string {
  return text.replace(CONTROL, '?')
}

// Every C0 and C1 control, tab and newline included: a label is one line of a picture.
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
// Bidirectional controls (embeddings, overrides, isolates, marks): they reorder the text around
// them, so a name could make a picture read as something else (the Trojan Source trick).
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** Text from the cluster as one inert line: controls and bidirectional controls become `?`. */
export function inert(text: string): string {
  return text.replace(ANY_CONTROL, '?').replace(BIDI, '?')
}
