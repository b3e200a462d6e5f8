// Kubeconfig the way kubectl reads it: --kubeconfig, else every file in KUBECONFIG merged
// first-wins (missing files skipped), else ~/.kube/config, else the in-cluster service account.
// client-node's own loader throws on duplicate names and missing files, and lets the last file's
// current-context win, so the merge happens here and client-node gets one document.
import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import type {KubeConfig} from '@kubernetes/client-node'
import {SourceError} from '../../app/ports.js'

interface Named {
  name: string
  [key: string]: unknown
}

interface KubeconfigDoc {
  'current-context'?: string
  clusters?: Named[]
  users?: Named[]
  contexts?: Named[]
  [key: string]: unknown
}

export interface KubeconfigOptions {
  kubeconfig?: string | undefined
  context?: string | undefined
  namespace?: string | undefined
  env: NodeJS.ProcessEnv
}

/** What was loaded, for messages and defaults. */
export interface LoadedKubeconfig {
  kc: KubeConfig
  context: string
  server: string
  namespace: string
  files: string[]
}

const PATH_KEYS: Record<'cluster' | 'user', string[]> = {
  cluster: ['certificate-authority'],
  user: ['client-certificate', 'client-key', 'tokenFile'],
}

/** Makes file references absolute against the kubeconfig's own folder, as kubectl does. */
function absolutize(items: Named[] | undefined, kind: 'cluster' | 'user', dir: string): Named[] {
  return (items ?? []).map((item) => {
    const inner = {...(item[kind] as Record<string, unknown> | undefined)}
    for (const key of PATH_KEYS[kind]) {
      const v = inner[key]
      if (typeof v === 'string' && v !== '' && !path.isAbsolute(v)) inner[key] = path.resolve(dir, v)
    }
    return {...item, [kind]: inner}
  })
}

function readDoc(file: string): KubeconfigDoc {
  let doc: unknown
  try {
    doc = yaml.load(readFileSync(file, 'utf8'))
  } catch (err) {
    const mark = (err as {mark?: {line: number}}).mark
    throw new SourceError(`kubeconfig ${file}${mark ? `:${mark.line + 1}` : ''} cannot be read: ${(err as {reason?: string}).reason ?? (err as Error).message}`)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object') throw new SourceError(`kubeconfig ${file} is not a kubeconfig (expected a YAML mapping)`)
  const d = doc as KubeconfigDoc
  // The merge below walks these lists; a wrong shape is the file's fault, said as such.
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const v: unknown = d[key]
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x: unknown) => typeof (x as {name?: unknown} | null)?.name !== 'string'))) {
      throw new SourceError(
        `kubeconfig ${file}: "${key}" is not a list of named entries (each "- name: NAME"); fix the file or point --kubeconfig at another one`,
      )
    }
  }
  const current: unknown = d['current-context']
  if (current !== undefined && current !== null && typeof current !== 'string') {
    throw new SourceError(`kubeconfig ${file}: "current-context" is not a context name; fix the file or pass --context`)
  }
  const dir = path.dirname(path.resolve(file))
  return {...d, clusters: absolutize(d.clusters, 'cluster', dir), users: absolutize(d.users, 'user', dir)}
}

function mergeNamed(into: Named[], from: Named[] | undefined): void {
  for (const item of from ?? []) if (!into.some((x) => x.name === item.name)) into.push(item)
}

/** Merges kubeconfig documents first-wins, like kubectl: the first file to set a name or the current context keeps it. */
function mergeKubeconfigs(docs: KubeconfigDoc[]): KubeconfigDoc {
  const merged: KubeconfigDoc = {apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: []}
  for (const d of docs) {
    mergeNamed(merged.clusters!, d.clusters)
    mergeNamed(merged.users!, d.users)
    mergeNamed(merged.contexts!, d.contexts)
    if (!merged['current-context'] && d['current-context']) merged['current-context'] = d['current-context']
  }
  return merged
}

/** The files kubectl would read, in order. */
export function kubeconfigFiles(opts: KubeconfigOptions): string[] {
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig))
      throw new SourceError(
        `--kubeconfig ${opts.kubeconfig}: no such file; give the path of a kubeconfig file (kubectl config view --minify shows the one kubectl uses now), or leave --kubeconfig out to use KUBECONFIG or ~/.kube/config`,
      )
    return [opts.kubeconfig]
  }
  if (opts.env.KUBECONFIG) return opts.env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '' && existsSync(f))
  const home = path.join(opts.env.HOME ?? homedir(), '.kube', 'config')
  return existsSync(home) ? [home] : []
}

/** Loads the kubeconfig (or the in-cluster account), selects and validates the context. */
export async function loadKubeconfig(opts: KubeconfigOptions): Promise<LoadedKubeconfig> {
  const {KubeConfig} = await import('./client-node.js')
  const kc = new KubeConfig()
  const files = kubeconfigFiles(opts)
  if (files.length === 0) {
    if (opts.env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) {
      kc.loadFromCluster()
      const nsFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'
      const namespace = opts.namespace ?? (existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : 'default')
      return {kc, context: 'in-cluster', server: kc.getCurrentCluster()?.server ?? '', namespace, files}
    }
    const where = opts.env.KUBECONFIG
      ? `none of the files in KUBECONFIG (${opts.env.KUBECONFIG}) exists`
      : `${path.join('~', '.kube', 'config')} does not exist and KUBECONFIG is not set`
    throw new SourceError(`no kubeconfig found: ${where}. Point --kubeconfig at one, or use --from DIR to read a bundle instead of a live cluster`)
  }
  const merged = mergeKubeconfigs(files.map(readDoc))
  try {
    kc.loadFromString(yaml.dump(merged))
  } catch (err) {
    // client-node checks each entry's fields (`contexts[0].name is missing`).
    throw new SourceError(`kubeconfig ${files.join(', ')} is not valid: ${(err as Error).message}; fix the file or point --kubeconfig at another one`)
  }
  const known = (merged.contexts ?? []).map((c) => c.name)
  const context = opts.context ?? merged['current-context']
  if (!context) {
    throw new SourceError(`no current context in ${files.join(', ')}; pass --context (known: ${known.join(', ') || 'none'})`)
  }
  if (!kc.getContextObject(context)) {
    throw new SourceError(`context "${context}" not found in ${files.join(', ')}; known contexts: ${known.join(', ') || 'none'}`)
  }
  kc.setCurrentContext(context)
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new SourceError(`context "${context}" names a cluster that is not in ${files.join(', ')}`)
  const namespace = opts.namespace ?? kc.getContextObject(context)?.namespace ?? 'default'
  return {kc, context, server: cluster.server, namespace, files}
}
