// -v/--verbose: one stderr line per API request and per node command, in kubectl -v=6's shape
// (`I1206 04:30:01.123 GET https://… 200 OK in 12 milliseconds`). Lines carry no header, token or
// credential (the records hold none), and text from the cluster is cleaned of control characters.
import {STATUS_CODES} from 'node:http'
import type {ActivityLog, ApiRequestRecord, NodeCommandRecord, NodeReadRecord} from '../app/ports.js'
import {cleanLines} from '../render/style.js'
import type {Progress} from './progress.js'

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** klog's line header at millisecond precision, local time: `I1206 04:30:01.123`. */
export function klogPrefix(at: Date): string {
  const date = `${pad(at.getMonth() + 1)}${pad(at.getDate())}`
  return `I${date} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`
}

/** One line of cluster-supplied text: control characters and line breaks made harmless. */
function oneLine(text: string): string {
  return cleanLines(text).replace(/\n/g, ' ')
}

/** `GET https://…/services/web 200 OK in 12 milliseconds`, or `(no response: ECONNREFUSED)` instead of a status. */
export function apiRequestLine(r: ApiRequestRecord): string {
  const outcome = r.status !== undefined ? `${r.status} ${STATUS_CODES[r.status] ?? ''}`.trim() : `(no response: ${r.error ?? 'unknown'})`
  return oneLine(`${r.method} ${r.url} ${outcome} in ${r.ms} milliseconds`)
}

/**
 * `ssh node-a: iptables -V exit 0, 27 bytes in 15 milliseconds`, or `failed (timeout)` when it did not finish;
 * `exec node-a (debug pod kube-system/svctrace-…): …` when the node's commands ran in more than one pod.
 */
export function nodeCommandLine(r: NodeCommandRecord): string {
  const bytes = r.bytes !== undefined ? `, ${r.bytes} bytes` : ''
  const outcome = r.exitCode !== undefined ? `exit ${r.exitCode}${bytes}` : `failed (${r.error ?? 'unknown'})`
  const when = r.channel ? `(channel ${r.channel.number}: ${r.channel.commands} commands in ${r.ms} milliseconds)` : `in ${r.ms} milliseconds`
  return oneLine(`${r.via} ${r.node}${r.where !== undefined ? ` (${r.where})` : ''}: ${r.command} ${outcome} ${when}`)
}

/** `ssh node-a: targeted read (nft backend): the first round held every chain on the paths`. */
function nodeReadLine(r: NodeReadRecord): string {
  return oneLine(`${r.via} ${r.node}: ${r.text}`)
}

/** The ActivityLog -v writes to `stream`, above the progress line when there is one. */
export function verboseLog(stream: NodeJS.WritableStream, progress: Progress | undefined, clock: () => Date = () => new Date()): ActivityLog {
  const write = (line: string) => {
    const text = `${klogPrefix(clock())} ${line}\n`
    if (progress) progress.above(text)
    else stream.write(text)
  }
  return {
    apiRequest: (r) => write(apiRequestLine(r)),
    nodeCommand: (r) => write(nodeCommandLine(r)),
    nodeRead: (r) => write(nodeReadLine(r)),
  }
}
