// Keeps the sample outputs in README.md true: each block between `<!-- sample: ARGS -->` and
// `<!-- /sample -->` is the output of `kubectl svctrace ARGS` on the bundled example, rendered at 80
// columns without colour in a UTF-8 locale. `node scripts/readme-samples.mjs` rewrites them;
// `--check` only compares (exit 1 and the names of the stale samples), which is what the test runs.
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const readme = `${root}README.md`
const SAMPLE = /<!-- sample: (.+?) -->\n[\s\S]*?<!-- \/sample -->/g

/** The output of the command, as a fenced block that shows the command first. */
function render(args) {
  let out
  try {
    out = execFileSync(process.execPath, [`${root}bin/run.js`, ...args.split(' ')], {
      cwd: root,
      encoding: 'utf8',
      // A UTF-8 locale, whatever the machine's: -o tree draws boxes then.
      env: {...process.env, COLUMNS: '80', NO_COLOR: '1', LC_ALL: 'C.UTF-8'},
    })
  } catch (err) {
    // Exit 1 (findings) still prints the whole answer.
    if (err.status !== 1) throw err
    out = err.stdout
  }
  return `<!-- sample: ${args} -->\n\`\`\`\n$ kubectl svctrace ${args}\n${out}\`\`\`\n<!-- /sample -->`
}

const text = readFileSync(readme, 'utf8')
const stale = []
const fresh = text.replace(SAMPLE, (block, args) => {
  const now = render(args)
  if (now !== block) stale.push(args)
  return now
})
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    process.stderr.write(`README.md samples out of date: ${stale.join('; ')}\nrun: npm run readme:samples\n`)
    process.exitCode = 1
  }
} else if (fresh !== text) {
  writeFileSync(readme, fresh)
}
