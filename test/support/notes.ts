// Trace notes as the report prints them, for tests that check what a note says.
import type {Note} from '../../src/core/model.js'
import {noteText} from '../../src/render/notes.js'

/** The notes' sentences, one per line. */
export function noteLines(notes: readonly Note[]): string {
  return notes.map(noteText).join('\n')
}
