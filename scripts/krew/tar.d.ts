// Types for tar.js.
export interface Entry {
  name: string
  mode: number
  data?: Buffer | string
  type?: 'file' | 'dir' | 'symlink' | 'hardlink'
  linkname?: string
}
export function defaultMtime(): number
export function tar(entries: Entry[], options?: {mtime?: number}): Buffer
export function gzip(buffer: Buffer): Buffer
export function tarGz(entries: Entry[], options?: {mtime?: number}): Buffer
