// A node command that ran and failed carries its exit status (for -v), whichever way it was run.
import type {V1Status} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {commandResult} from '../../src/adapters/kube/pod-exec-errors.js'
import {nodeCommands} from '../../src/adapters/node/commands.js'
import type {NodeAccessError} from '../../src/adapters/node/connector.js'
import {commandError} from '../../src/adapters/ssh/errors.js'

const pod = {namespace: 'kube-system', node: 'node-a', label: 'kube-proxy pod kube-system/kube-proxy-x', role: 'kube-proxy' as const}

function thrown(fn: () => unknown): NodeAccessError {
  try {
    fn()
  } catch (err) {
    return err as NodeAccessError
  }
  throw new Error('did not throw')
}

describe('exit status on NodeAccessError', () => {
  it.each<[number, string, number | undefined]>([
    [127, 'bash: ipvsadm: command not found', 127],
    [1, 'iptables-save: permission denied', 1],
    [4, 'Another app is currently holding the xtables lock', 4],
    [-1, '', undefined],
  ])('ssh: exit %i', (code, stderr, expected) => {
    expect(commandError('node-a', nodeCommands.ipvsadmSave(), false, code, stderr).exitCode).toBe(expected)
  })

  it.each<[V1Status, number | undefined]>([
    [
      {
        status: 'Failure',
        reason: 'NonZeroExitCode',
        message: 'command terminated with non-zero exit code',
        details: {causes: [{reason: 'ExitCode', message: '3'}]},
      },
      3,
    ],
    [{status: 'Failure', message: 'exec: "ipvsadm": executable file not found in $PATH'}, 127],
    [{status: 'Failure', reason: 'InternalError', message: 'container not running'}, undefined],
  ])('pod exec: %j', (status, expected) => {
    expect(thrown(() => commandResult(status, '', '', pod, ['ipvsadm', '-S', '-n'])).exitCode).toBe(expected)
  })
})
