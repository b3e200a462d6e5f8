// `--version` without oclif: what the bundled CLI (entry.js) and the npm layout's bin/run.js (through
// dist/version.cjs, bundled from version-entry.js) answer before anything larger is loaded.
import {existsSync, readFileSync} from 'node:fs'
import {arch, platform, release} from 'node:os'

/**
 * What oclif prints for `--version` (Config#userAgent: `name/version platform-arch node-vX`),
 * or undefined when this cannot be sure to print the same: oclif says `wsl` for the platform
 * under Windows' WSL (wsl-utils), so any sign of WSL leaves the answer to oclif.
 */
function versionLine(pjson) {
  const osPlatform = platform()
  if (osPlatform === 'linux') {
    if (release().toLowerCase().includes('microsoft')) return undefined
    try {
      if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return undefined
    } catch {
      return undefined
    }
    if (existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')) return undefined
  }
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  return `${pjson.name}/${pjson.version} ${osPlatform}-${cpu} node-${process.version}\n`
}

/**
 * Prints oclif's `--version` line when `argv` is exactly `--version` and the line is certain (see
 * versionLine); says whether it did. With anything else, oclif parses and may reject the rest first.
 */
export function answerVersion(argv, pjson) {
  const line = argv.length === 1 && argv[0] === '--version' ? versionLine(pjson) : undefined
  if (line) process.stdout.write(line)
  return line !== undefined
}
