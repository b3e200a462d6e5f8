// The README's picture of the example cluster: docs/example.dot is what
// `kubectl svctrace hello-world --from examples/hello-world -o dot` prints, and docs/example.svg is
// Graphviz's drawing of it (`dot -Tsvg`). `npm run picture` rewrites both; `--check` only compares
// the DOT source (exit 1 when it is stale), which is what the test runs. The SVG is not compared
// byte for byte: Graphviz versions place things slightly differently; the test checks it draws the
// labels of the committed DOT.
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const ARGS = ['hello-world', '--from', 'examples/hello-world', '-o', 'dot']
const dotFile = `${root}docs/example.dot`
const svgFile = `${root}docs/example.svg`

const source = execFileSync(process.execPath, [`${root}bin/run.js`, ...ARGS], {cwd: root, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
if (process.argv.includes('--check')) {
  if (readFileSync(dotFile, 'utf8') !== source) {
    process.stderr.write(`docs/example.dot is not what \`kubectl svctrace ${ARGS.join(' ')}\` prints today\nrun: npm run picture\n`)
    process.exitCode = 1
  }
} else {
  writeFileSync(dotFile, source)
  try {
    execFileSync('dot', ['-Tsvg', dotFile, '-o', svgFile], {stdio: ['ignore', 'inherit', 'inherit']})
  } catch (err) {
    process.stderr.write(`dot -Tsvg failed (${err.message}); is Graphviz installed? (Debian: apt-get install graphviz)\n`)
    process.exitCode = 1
  }
}
