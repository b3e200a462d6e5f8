// Entry point of dist/version.cjs (scripts/bundle-dist.js): bin/run.js asks it first, so `--version`
// alone is answered before the 1 MB bundle dist/svctrace.cjs is read and compiled.
import {answerVersion} from './version-line.js'

/** Prints the `--version` line when that is all argv asks; says whether it did. */
export function printedVersion(argv) {
  // Replaced at build time by the oclif part of package.json (see bundle.js).
  return answerVersion(argv, __SVCTRACE_PJSON__)
}
