// -v lines (verbose-log.ts): kubectl -v=6's shape, cluster text cleaned, and kept clear of the
// progress line on a terminal.
import {describe, expect, it} from 'vitest'
import {recordingStream} from '../support/recording-stream.js'
import {apiRequestLine, klogPrefix, nodeCommandLine, verboseLog} from '../../src/commands/verbose-log.js'
import {nodeProgress} from '../../src/commands/progress.js'

const stream = recordingStream

const url = 'https://127.0.0.1:6443/api/v1/namespaces/default/services/hello-world'

describe('-v lines', () => {
  it('klog prefix: I, month and day, local time to the millisecond', () => {
    expect(klogPrefix(new Date(2026, 11, 6, 4, 30, 1, 23))).toBe('I1206 04:30:01.023')
  })

  it.each([
    [{method: 'GET', url, status: 200, ms: 12}, `GET ${url} 200 OK in 12 milliseconds`],
    [{method: 'GET', url: `${url}?labelSelector=app%3Dweb`, status: 403, ms: 3}, `GET ${url}?labelSelector=app%3Dweb 403 Forbidden in 3 milliseconds`],
    [{method: 'DELETE', url, status: 599, ms: 1}, `DELETE ${url} 599 in 1 milliseconds`],
    [{method: 'GET', url, error: 'ECONNREFUSED', ms: 2}, `GET ${url} (no response: ECONNREFUSED) in 2 milliseconds`],
  ])('API request %#', (record, line) => {
    expect(apiRequestLine(record)).toBe(line)
  })

  it.each([
    [
      {node: 'node-a', via: 'ssh' as const, command: 'iptables -V', exitCode: 0, bytes: 27, ms: 15},
      'ssh node-a: iptables -V exit 0, 27 bytes in 15 milliseconds',
    ],
    [{node: 'node-b', via: 'exec' as const, command: 'ipvsadm -S -n', exitCode: 127, ms: 8}, 'exec node-b: ipvsadm -S -n exit 127 in 8 milliseconds'],
    [
      {node: 'node-b', via: 'ssh' as const, command: 'iptables-save', error: 'timeout', ms: 60001},
      'ssh node-b: iptables-save failed (timeout) in 60001 milliseconds',
    ],
  ])('node command %#', (record, line) => {
    expect(nodeCommandLine(record)).toBe(line)
  })

  it('control characters and line breaks from the cluster never reach the terminal', () => {
    const line = nodeCommandLine({node: 'evil\u001b]0;pwned\u0007\nnode', via: 'exec', command: 'iptables -V', exitCode: 0, bytes: 1, ms: 1})
    expect(line).toBe('exec evil?]0;pwned? node: iptables -V exit 0, 1 bytes in 1 milliseconds')
  })

  it('without a progress line: one line per record on the stream', () => {
    const err = stream(false)
    const log = verboseLog(err, undefined, () => new Date(2026, 11, 6, 4, 30, 1, 123))
    log.apiRequest({method: 'GET', url, status: 200, ms: 12})
    log.nodeCommand({node: 'node-a', via: 'ssh', command: 'iptables -V', exitCode: 0, bytes: 27, ms: 15})
    expect(err.text).toBe(
      `I1206 04:30:01.123 GET ${url} 200 OK in 12 milliseconds\nI1206 04:30:01.123 ssh node-a: iptables -V exit 0, 27 bytes in 15 milliseconds\n`,
    )
  })

  it('a command of a compound read names its channel; how the node was read is one line, control characters inert', () => {
    const err = stream(false)
    const log = verboseLog(err, undefined, () => new Date(2026, 11, 6, 4, 30, 1, 123))
    log.nodeCommand({node: 'node-a', via: 'ssh', command: 'iptables -V', exitCode: 0, bytes: 27, ms: 41, channel: {number: 1, commands: 9}})
    log.nodeRead({node: 'node-a\u001b[2J', via: 'exec', text: 'targeted read (nft backend): one round'})
    expect(err.text).toBe(
      'I1206 04:30:01.123 ssh node-a: iptables -V exit 0, 27 bytes (channel 1: 9 commands in 41 milliseconds)\n' +
        'I1206 04:30:01.123 exec node-a?[2J: targeted read (nft backend): one round\n',
    )
  })

  it('with a progress line: the line is erased, the log line written, the progress drawn again below it', () => {
    const tty = stream(true)
    const progress = nodeProgress(tty)!
    const log = verboseLog(tty, progress, () => new Date(2026, 11, 6, 4, 30, 1, 123))
    log.apiRequest({method: 'GET', url, status: 200, ms: 12})
    progress.update(1, 2)
    log.nodeCommand({node: 'node-a', via: 'ssh', command: 'iptables -V', exitCode: 0, bytes: 27, ms: 15})
    progress.clear()
    expect(tty.text).toBe(
      `I1206 04:30:01.123 GET ${url} 200 OK in 12 milliseconds\n` +
        '\r\u001b[Kreading 1/2 nodes…' +
        '\r\u001b[KI1206 04:30:01.123 ssh node-a: iptables -V exit 0, 27 bytes in 15 milliseconds\nreading 1/2 nodes…' +
        '\r\u001b[K',
    )
  })
})
