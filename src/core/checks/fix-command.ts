// Ready-to-paste kubectl commands that fix a finding, built from typed facts. svctrace prints them
// and never runs them. Every value comes from the cluster (or a bundle someone handed over), so a
// command is made only from values that are safe to show and to paste: no control characters, no
// object name kubectl could take for a flag, each word quoted for a POSIX shell.
import type {V1Service} from '@kubernetes/client-node'

// C0 and C1 controls and DEL: a value holding one is never put into a command.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** What a namespace or object name looks like (DNS subdomain); anything else gets no command. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

/** Words a shell reads as themselves: left unquoted so the command reads like one typed by hand. */
const PLAIN = /^[A-Za-z0-9_./:=@%+,-]+$/

/** One word for a POSIX shell: as is when plain, else in single quotes (a quote inside as '\''). */
export function shellQuote(word: string): string {
  return PLAIN.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/** Every string and object key in the value, nested (label keys are cluster data too). */
function textsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(textsOf)
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...textsOf(v)])
  return []
}

/** A JSON document to pass with -p, or undefined when a string in it holds a control character. */
function patchText(patch: unknown): string | undefined {
  return textsOf(patch).some((s) => CONTROL.test(s)) ? undefined : JSON.stringify(patch)
}

/**
 * `kubectl -n NS patch service NAME --type TYPE -p 'PATCH'`, or undefined when the namespace or
 * name is no valid object name or the patch holds a control character.
 */
export function patchServiceCommand(svc: V1Service, type: 'merge' | 'json', patch: unknown): string | undefined {
  const ns = svc.metadata?.namespace ?? ''
  const name = svc.metadata?.name ?? ''
  const text = patchText(patch)
  if (!OBJECT_NAME.test(ns) || !OBJECT_NAME.test(name) || text === undefined) return undefined
  return ['kubectl', '-n', ns, 'patch', 'service', name, '--type', type, '-p', text].map(shellQuote).join(' ')
}
