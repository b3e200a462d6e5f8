// Types for bundle.js.
export const COMMAND_TARGET: string
export const LAZY_GROUPS: Array<{file: string; packages: string[]; entry?: string}>
export const LAZY_PACKAGES: string[]
export function packageOf(spec: string): string
export const REQUIRE_SHIM: string
export function lazyFileName(pkg: string): string
/** The bundle's text with every character outside ASCII written as an escape (throws when one follows a backslash). */
export function asciiOnly(code: string): string
export function launcher(bundlePath: string, minNodeMajor: number, versionPath: string): string
export function inlinePjson(pkg: Record<string, unknown>): Record<string, unknown>
export interface BundledPackage {
  name: string
  version: string
  license: string
  dir: string
}
export const ENTRY: string
/** esbuild's metafile import record. */
export interface ImportRecord {
  path: string
  kind: string
  external?: boolean
  original?: string
}
export function bundleCli(
  root: string,
  opts?: {entry?: string},
): Promise<{
  code: string
  lazy: Array<{file: string; specifiers: string[]; code: string}>
  packages: BundledPackage[]
  imports: Record<string, ImportRecord[]>
  mainInputs: string[]
  version: string
}>
export function bundledPackages(root: string, inputs: string[]): BundledPackage[]
export function thirdPartyNotices(root: string, packages: BundledPackage[], prefix?: string): string
