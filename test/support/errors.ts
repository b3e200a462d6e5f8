// What a parser throws, for tests that read the error's position and message.
import {DumpError} from '../../src/core/iptables/dump.js'

/** Runs `f` and returns the DumpError it throws; fails the test when it throws nothing or something else. */
export function dumpErrorOf(f: () => unknown): DumpError {
  try {
    f()
  } catch (err) {
    if (err instanceof DumpError) return err
    throw err
  }
  throw new Error('expected a DumpError')
}
