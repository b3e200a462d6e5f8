// Types for sea.js.
export const SEA_FUSE: string
export function seaUnsupportedReason(nodeBinary?: string): string | undefined
export function buildSea(opts: {code: string; assets?: Record<string, string>; output: string; workDir: string; nodeBinary?: string}): Promise<string>
export function nodeLicense(nodeBinary?: string): string
