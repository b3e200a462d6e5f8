// kubectl's -v=N forms on svctrace's boolean -v (verbosityArgs): what oclif is then given.
import {describe, expect, it} from 'vitest'
import {verbosityArgs, type VerbosityArgs} from '../../src/commands/verbosity.js'

describe('verbosityArgs', () => {
  it.each<[string[], VerbosityArgs]>([
    [['web', '-v'], {argv: ['web', '-v']}],
    [['web', '--verbose'], {argv: ['web', '--verbose']}],
    [['web', '-v=6'], {argv: ['web', '--verbose']}],
    [['web', '--v=8'], {argv: ['web', '--verbose']}],
    [['web', '--verbose=6'], {argv: ['web', '--verbose']}],
    [['-v6', 'web'], {argv: ['--verbose', 'web']}],
    [['-v', '6', 'web'], {argv: ['--verbose', 'web']}],
    [['--v', '6', 'web'], {argv: ['--verbose', 'web']}],
    [['--v', 'web'], {argv: ['--verbose', 'web']}],
    // -v then a Service: the name is no level (Service names start with a letter).
    [['-v', 'web'], {argv: ['-v', 'web']}],
    [['web', '-v=0'], {argv: ['web']}],
    [['web', '--', '-v=6'], {argv: ['web', '--', '-v=6']}],
    [['web', '-n', 'shop', '-o', 'json'], {argv: ['web', '-n', 'shop', '-o', 'json']}],
    [['web', '-v=high'], {error: '-v=high: give -v (or --verbose), or a level as kubectl takes it (-v=6)'}],
    [['web', '--verbose='], {error: '--verbose=: give -v (or --verbose), or a level as kubectl takes it (-v=6)'}],
  ])('%j', (argv, expected) => {
    expect(verbosityArgs(argv)).toEqual(expected)
  })
})
