// Types for krew.js (plain JavaScript so the bench and the package script can use it too).
export interface Selector {
  matchLabels?: Record<string, string> | null
  matchExpressions?: Array<{key: string; operator: string; values?: string[]}> | null
}
export interface FileOperation {
  from: string
  to: string
}
export interface Platform {
  uri: string
  sha256: string
  selector?: Selector | null
  files?: FileOperation[] | null
  bin: string
}
export interface Plugin {
  apiVersion: string
  kind: string
  metadata: {name: string}
  spec: {
    version: string
    homepage?: string
    shortDescription: string
    description?: string
    caveats?: string
    platforms: Platform[]
  }
}
export interface OsArch {
  os: string
  arch: string
}
export interface TarEntry {
  name: string
  /** '0' regular file, '5' directory, '2' symlink, '1' hard link, 'g' pax global header … */
  type: string
  mode: number
  uid: number
  gid: number
  uname: string
  gname: string
  mtime: number
  linkname: string
  size: number
  data: Buffer
}
export interface Installed {
  plugin: Plugin
  platform: Platform
  installDir: string
  binPath: string
  link: string
  binDir: string
}

export const API_VERSION: string
export const PLUGIN_KIND: string
export const MANIFEST_EXTENSION: string
export const KNOWN_PLATFORMS: OsArch[]
export function parseVersion(s: string): {major: number; minor: number; patch: number; preRelease: string[]; buildMetadata: string}
export function selectorMatches(selector: Selector | null | undefined, labels: Record<string, string>): boolean
export function anyMatchingPlatform(selector: Selector | null | undefined): OsArch | undefined
export function matchPlatform(plugin: Plugin, env: OsArch): Platform | undefined
export function isSafePluginName(name: string): boolean
export function validatePlugin(name: string, plugin: Plugin): void
export function parseManifest(text: string): Plugin
export function validateManifestText(fileName: string, text: string): Plugin
export function manifestWarnings(plugin: Plugin): string[]
export function readTar(buf: Buffer): TarEntry[]
export function detectArchiveType(buf: Buffer): string
export function extractTarGz(targetDir: string, archive: Buffer): void
export function sha256(buf: Buffer | string): string
export function pluginBinName(name: string, os?: string): string
export function krewInstall(opts: {manifest: string; archive: string; krewRoot: string; os: string; arch: string}): Installed
export function findInstalledLicense(krewRoot: string): string
export function validateManifestInstalls(
  manifest: string,
  archives: Record<string, string>,
  options?: {skipMissing?: boolean},
): Array<OsArch & {index: number; bin: string; license: string; files: string[]}>
