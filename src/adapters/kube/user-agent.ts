// The User-Agent every request of the tool carries, shaped like kubectl's own
// (`kubectl/v1.30.0 (linux/amd64) kubernetes/…`) so API server audit logs and rate limits can tell
// svctrace's requests apart: `kubectl-svctrace/0.1.0 (linux/amd64)`.

/** Node's names for the architectures whose Go names differ (GOARCH is what kubectl prints). */
const GO_ARCH: Record<string, string> = {x64: 'amd64', ia32: '386'}
/** Node's names for the systems whose Go names differ (GOOS). */
const GO_OS: Record<string, string> = {win32: 'windows'}

/** `NAME/VERSION (OS/ARCH)`, with VERSION as --version reports it and OS/ARCH as Go names them. */
export function userAgent(name: string, version: string, platform: string = process.platform, arch: string = process.arch): string {
  return `${name}/${version} (${GO_OS[platform] ?? platform}/${GO_ARCH[arch] ?? arch})`
}
