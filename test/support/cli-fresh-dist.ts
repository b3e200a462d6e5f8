// vitest globalSetup of the projects that spawn the built command (bin/run.js runs dist/): a dist/
// older than src/ would test yesterday's code and pass. When any file or folder under src/ is newer
// than the newest file under dist/ (folders count: a deleted or renamed file changes its folder),
// it runs `npm run build` once, before the first test; when that fails, the run stops with why (and
// dist/ is removed, since tsc emits even on type errors).
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The newest modification under `dir` (files, and folders when `folders`), with its path; 0 when dir is missing. */
function newest(dir: string, folders: boolean): {mtimeMs: number; file: string} {
  let best = {mtimeMs: 0, file: dir}
  if (!existsSync(dir)) return best
  const visit = (p: string) => {
    const st = statSync(p)
    if (st.isDirectory()) {
      if (folders && st.mtimeMs > best.mtimeMs) best = {mtimeMs: st.mtimeMs, file: p}
      for (const entry of readdirSync(p)) visit(path.join(p, entry))
    } else if (st.mtimeMs > best.mtimeMs) {
      best = {mtimeMs: st.mtimeMs, file: p}
    }
  }
  visit(dir)
  return best
}

/** Why dist/ cannot be trusted, or undefined when it is at least as new as src/. */
export function staleDist(base = root): string | undefined {
  const src = newest(path.join(base, 'src'), true)
  const dist = newest(path.join(base, 'dist'), false)
  if (dist.mtimeMs === 0) return 'dist/ is missing'
  if (!existsSync(path.join(base, 'dist/svctrace.cjs'))) return 'dist/svctrace.cjs (the bundle bin/run.js runs; npm run build makes it after tsc) is missing'
  if (src.mtimeMs <= dist.mtimeMs) return undefined
  const what = statSync(src.file).isDirectory()
    ? `a file was added to or removed from ${path.relative(base, src.file)}/`
    : `${path.relative(base, src.file)} changed`
  return `${what} after dist/ was built (${new Date(src.mtimeMs).toISOString()} > ${new Date(dist.mtimeMs).toISOString()})`
}

export default function ensureFreshDist(): void {
  const why = staleDist()
  if (!why) return
  process.stderr.write(`[cli tests] ${why}: running npm run build\n`)
  const r = spawnSync('npm', ['run', 'build'], {cwd: root, encoding: 'utf8'})
  if (r.status !== 0) {
    // tsc writes its output even when it reports errors: drop it, so the next run cannot take it for fresh.
    rmSync(path.join(root, 'dist'), {recursive: true, force: true})
    throw new Error(
      `the CLI tests run dist/, and ${why}; \`npm run build\` failed (exit ${r.status ?? r.signal}), so dist/ was removed rather than tested stale:\n${r.stdout}${r.stderr}`,
    )
  }
  const still = staleDist()
  if (still) throw new Error(`the CLI tests run dist/: after \`npm run build\`, ${still}; remove dist/ and build again`)
}
