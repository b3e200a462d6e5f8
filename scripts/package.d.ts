// Types for package.js.
export interface Archive {
  name: string
  path: string
  sha256: string
  bytes: number
}
export interface Release {
  version: string
  outDir: string
  archives: {node: Archive; linuxAmd64?: Archive}
  manifest: string
  manifestPath: string
  nodeVersion: string
  /** false when built with sea: false (the linux-amd64 sha256 in the manifest is then a placeholder) */
  complete: boolean
}
export const ROOT: string
export const PLUGIN_NAME: string
export const TEMPLATE: string
export function archiveNames(version: string): {node: string; linuxAmd64: string}
export function minNodeMajor(pkg: {engines?: {node?: string}}): number
export function renderManifest(template: string, values: Record<string, string | number>): string
export function packageRelease(opts?: {
  root?: string
  outDir?: string
  build?: boolean
  sea?: boolean
  writeManifest?: boolean
  quiet?: boolean
}): Promise<Release>
