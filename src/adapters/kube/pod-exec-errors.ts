// Why a pods/exec read failed, as a NodeAccessError whose sentence says what to do next: an API request
// refused or unanswered (RBAC, Pod Security, credentials, timeouts), an exec stream refused, or a
// command that ran and failed (missing from the image, non-zero exit).
import type {V1Status} from '@kubernetes/client-node'
import {NodeAccessError, type CommandResult} from '../node/connector.js'

/** What client-node rejects with: an HTTP code and Status body, or a network error with a cause. */
export type ApiError = Error & {code?: number | string; body?: unknown; cause?: {code?: string}}

/** An API request, for messages. */
export interface ApiRequest {
  verb: string
  resource: string
  namespace: string
  node: string
  /** What the request is for: "to find the kube-proxy pod". */
  why: string
}

/** How a pod is named in messages: `kube-proxy pod kube-system/kube-proxy-x7k2p` on its node. */
export interface PodLabel {
  namespace: string
  node: string
  label: string
  /** Whose image runs the commands: the kube-proxy pod's, or svctrace's debug pod's. */
  role: 'kube-proxy' | 'debug'
  /** A debug pod reads what this pod's image lacks (--debug-pod-fallback). */
  fallback?: boolean
}

/** What to do about a program the pod's image lacks (undefined when svctrace already reads it elsewhere). */
function missingProgramNextStep(pod: PodLabel, program: string): string | undefined {
  if (pod.role === 'debug') return `pass --debug-image with an image that has ${program}`
  if (pod.fallback) return undefined
  return `add --debug-pod-fallback to read ${program} from a short-lived privileged debug pod on ${pod.node} (the rest stays in the kube-proxy pod), or use --via ssh`
}

function missingProgram(pod: PodLabel, argv: string[], why: string): NodeAccessError {
  const program = argv[0]!
  return new NodeAccessError(
    `${program} is not installed in ${pod.label} on ${pod.node} (\`${argv.join(' ')}\` exited with 127: ${why})`,
    'command',
    127,
    missingProgramNextStep(pod, program),
  )
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

/** The Status body's message when there is one, else the error's first line. */
export function statusMessage(e: ApiError): string {
  try {
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as {message?: string} | null | undefined
    if (body?.message) return String(body.message)
  } catch {
    // not JSON
  }
  return String(e.message ?? e).split('\n')[0]!
}

/** A failed API request (timeoutMs: the request's own limit, named when it ran out). */
export function apiError(err: unknown, req: ApiRequest, stopping: boolean, timeoutMs: number): NodeAccessError {
  const e = err as ApiError
  const what = `${req.verb} ${req.resource} in namespace ${req.namespace}`
  if (e.code === 403) {
    const said = statusMessage(e)
    if (/violates PodSecurity/i.test(said)) {
      return new NodeAccessError(
        `Pod Security admission refuses svctrace's privileged debug pod in ${req.namespace} (${said}); allow privileged pods there (label the namespace pod-security.kubernetes.io/enforce=privileged) or use --via ssh`,
        'auth',
      )
    }
    return new NodeAccessError(
      `RBAC does not allow ${what} (${said}), needed ${req.why} on ${req.node}; grant it (check with kubectl auth can-i ${req.verb} ${req.resource} -n ${req.namespace}) or use --via ssh`,
      'auth',
    )
  }
  if (e.code === 401)
    return new NodeAccessError(
      `the API server rejected the credentials (401 Unauthorized) ${req.why} on ${req.node}; log in again or pick another context`,
      'auth',
    )
  if (typeof e.code === 'number') return new NodeAccessError(`${what} failed ${req.why} on ${req.node}: ${e.code} ${statusMessage(e)}`, 'unreachable')
  if (stopping) return new NodeAccessError(`cancelled ${req.why} on ${req.node}: svctrace is stopping`, 'unreachable')
  if (e.name === 'AbortError' || /aborted/i.test(String(e.message))) {
    return new NodeAccessError(`the API server did not answer ${what} within ${seconds(timeoutMs)} (${req.why} on ${req.node}); is it overloaded?`, 'timeout')
  }
  return new NodeAccessError(`cannot reach the API server to ${what} (${req.why} on ${req.node}): ${e.cause?.code ?? e.code ?? e.message}`, 'unreachable')
}

function firstLines(text: string): string {
  const lines = text.trim().split('\n').slice(0, 3).join(' / ')
  return lines.length > 300 ? `${lines.slice(0, 300)}…` : lines
}

/** The exit status channel: Success, NonZeroExitCode with the code, or a failure to start the program. */
export function commandResult(status: V1Status, stdout: string, stderr: string, pod: PodLabel, argv: string[]): CommandResult {
  if (status.status === 'Success') return {stdout, stderr, exitCode: 0}
  const shown = `\`${argv.join(' ')}\``
  const message = status.message ?? ''
  // containerd/runc: `exec: "ipvsadm": executable file not found in $PATH` — what a shell reports as 127.
  if (/executable file not found|no such file or directory/i.test(message))
    throw missingProgram(pod, argv, `not in ${pod.role === 'kube-proxy' ? 'the kube-proxy image' : 'the debug image'}`)
  if (status.reason !== 'NonZeroExitCode')
    return fail(`${shown} in ${pod.label} on ${pod.node} could not run: ${message || status.reason || 'unknown failure'}`)
  const code = Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? /exit code (\d+)/.exec(message)?.[1])
  if (Number.isInteger(code)) throw partError(pod, argv, code, stderr)
  return fail(
    `${shown} in ${pod.label} on ${pod.node} exited with ${Number.isInteger(code) ? code : 'a non-zero code'}: ${firstLines(stderr) || 'no error output'}`,
    Number.isInteger(code) ? code : undefined,
  )

  function fail(text: string, exitCode?: number): never {
    throw new NodeAccessError(text, 'command', exitCode)
  }
}

/** A part of a batch (one `sh -c` in the pod) that exited non-zero: the same sentence a lone exec gives. */
export function partError(pod: PodLabel, argv: string[], exitCode: number, stderr: string): NodeAccessError {
  const shown = `\`${argv.join(' ')}\``
  if (exitCode === 127) return missingProgram(pod, argv, firstLines(stderr) || 'not found')
  return new NodeAccessError(`${shown} in ${pod.label} on ${pod.node} exited with ${exitCode}: ${firstLines(stderr) || 'no error output'}`, 'command', exitCode)
}

/** An exec stream that never opened: the upgrade refused (refusal: its Status), timed out, or unreachable. */
export function execRefused(e: Error, refusal: {code: number; message: string} | undefined, pod: PodLabel, shown: string): NodeAccessError {
  const text = e?.message ?? String(e)
  const code = refusal?.code ?? Number(/Unexpected server response: (\d+)/.exec(text)?.[1])
  const said = refusal ? ` (${refusal.message})` : ''
  if (code === 403) {
    return new NodeAccessError(
      `RBAC does not allow create pods/exec in namespace ${pod.namespace}${said}, needed to run commands in ${pod.label} on ${pod.node}; ` +
        `grant the verbs create and get on pods/exec there (check with kubectl auth can-i create pods/exec -n ${pod.namespace}) or use --via ssh`,
      'auth',
    )
  }
  if (code === 401)
    return new NodeAccessError(`the API server rejected the credentials (401 Unauthorized) for ${shown}; log in again or pick another context`, 'auth')
  if (code === 404)
    return new NodeAccessError(
      `${pod.label} on ${pod.node} no longer exists${said}; run svctrace again (kube-proxy pods are replaced on upgrades)`,
      'unreachable',
    )
  if (code > 0) return new NodeAccessError(`the API server refused to run ${shown}: ${code}${said}`, 'unreachable')
  if (/handshake has timed out/i.test(text))
    return new NodeAccessError(`no exec stream for ${shown}: the API server did not answer the upgrade in time`, 'timeout')
  return new NodeAccessError(`cannot open an exec stream for ${shown}: ${text}`, 'unreachable')
}
