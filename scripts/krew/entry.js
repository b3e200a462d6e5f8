// Entry point of the single-file CLI. `npm run package` bundles this file with esbuild
// (CommonJS, Node 20) into lib/svctrace.cjs for the Node archive and into the blob of the
// self-contained executable. It runs the compiled command from dist/ under oclif, with
// the oclif configuration inlined: a bundle has no package.json and no dist/ next to it.
//
// oclif finds a single-command CLI's command by loading `oclif.commands.target` from disk.
// Here the target names a file that never exists; the `require` shim that esbuild puts in
// front of the bundle (bundle.js, REQUIRE_SHIM) answers that one name with this module's
// own exports, whose default export is the command class.
//
// oclif and the command are imported with import(): esbuild then initialises them only when
// that runs, so `--version` alone is answered before either is loaded (the bundle is parsed,
// nothing in it runs; measured: the linux-amd64 executable's --version 242 → 149 ms).
import {answerVersion} from './version-line.js'

/** The command class, set before oclif loads the command target (a live binding: esbuild exports it through a getter). */
let command
export {command as default}

async function main(argv) {
  // Replaced at build time by the oclif part of package.json (see bundle.js).
  const pjson = __SVCTRACE_PJSON__
  if (answerVersion(argv, pjson)) return
  const [{execute, settings}, svctrace] = await Promise.all([import('@oclif/core'), import('../../dist/commands/svctrace.js')])
  command = svctrace.default
  // Never look for tsconfig.json / ts-node / tsx next to the installed binary.
  settings.enableAutoTranspile = false
  await execute({
    args: argv,
    loadOptions: {
      // In a Node SEA, __dirname is the directory of the executable; otherwise the real
      // directory of lib/svctrace.cjs (Node resolves the krew symlink before running it).
      root: __dirname,
      pjson,
      userPlugins: false,
      devPlugins: false,
    },
  })
}

main(process.argv.slice(2))
