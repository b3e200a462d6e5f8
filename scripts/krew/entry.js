// Entry point of the single-file CLI. `npm run package` bundles this file with esbuild
// (CommonJS, Node 20) into lib/svctrace.cjs for the Node archive and into the blob of the
// self-contained executable. It runs the compiled command from dist/ under oclif, with
// the oclif configuration inlined: a bundle has no package.json and no dist/ next to it.
//
// oclif finds a single-command CLI's command by loading `oclif.commands.target` from disk.
// Here the target names a file that never exists; the `require` shim that esbuild puts in
// front of the bundle (bundle.js, REQUIRE_SHIM) answers that one name with this module's
// own exports, whose default export is the command class.
import {execute, settings} from '@oclif/core'
import Svctrace from '../../dist/commands/svctrace.js'

export default Svctrace

// Never look for tsconfig.json / ts-node / tsx next to the installed binary.
settings.enableAutoTranspile = false

execute({
  args: process.argv.slice(2),
  loadOptions: {
    // In a Node SEA, __dirname is the directory of the executable; otherwise the real
    // directory of lib/svctrace.cjs (Node resolves the krew symlink before running it).
    root: __dirname,
    // Replaced at build time by the oclif part of package.json (see bundle.js).
    pjson: __SVCTRACE_PJSON__,
    userPlugins: false,
    devPlugins: false,
  },
})
