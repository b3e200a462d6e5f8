// The layer rule of ARCHITECTURE.md, checked on resolved paths (not on import text):
//   commands ──▶ app ──▶ core ◀── render;  app ──▶ ports ◀── adapters
// `npm run lint:layers` (depcruise src). tsPreCompilationDeps keeps `import type` edges and marks
// them "type-only", which is how core may name @kubernetes/client-node types and nothing else.
const NPM = ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown']

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'src/core is pure: it is fed data (ARCHITECTURE.md). Move the I/O to an adapter and pass the result in through app.',
      severity: 'error',
      from: {path: '^src/core/'},
      to: {dependencyTypesNot: ['core', ...NPM], pathNot: '^src/core/'},
    },
    {
      name: 'core-no-node-builtin-but-crypto',
      comment: 'src/core does no I/O: of the node: modules only node:crypto (hashing kube-proxy chain names) is allowed.',
      severity: 'error',
      from: {path: '^src/core/'},
      to: {dependencyTypes: ['core'], pathNot: '^(node:)?crypto$'},
    },
    {
      name: 'core-no-npm-but-client-node-types',
      comment: 'src/core may name @kubernetes/client-node types (import type) and use no other package.',
      severity: 'error',
      from: {path: '^src/core/'},
      to: {dependencyTypes: NPM, pathNot: '(^|/)node_modules/@kubernetes/client-node/'},
    },
    {
      name: 'core-client-node-types-only',
      comment: 'src/core may use @kubernetes/client-node for types only: write `import type {V1Service} …`.',
      severity: 'error',
      from: {path: '^src/core/'},
      to: {path: '(^|/)node_modules/@kubernetes/client-node/', dependencyTypesNot: ['type-only']},
    },
    {
      name: 'render-app-not-adapters-or-commands',
      comment: 'render turns reports into strings and app talks to ports: neither reaches adapters or commands.',
      severity: 'error',
      from: {path: '^src/(render|app)/'},
      to: {path: '^src/(adapters|commands)/'},
    },
    {
      name: 'adapters-not-commands',
      comment: 'adapters implement ports; only commands wire them up.',
      severity: 'error',
      from: {path: '^src/adapters/'},
      to: {path: '^src/commands/'},
    },
    {
      name: 'render-imports-core-chalk-cli-table3-js-yaml',
      comment: 'render is (report, style) → string: its own files, core, chalk, cli-table3 and js-yaml only.',
      severity: 'error',
      from: {path: '^src/render/'},
      to: {pathNot: ['^src/(render|core)/', '(^|/)node_modules/(chalk|cli-table3|js-yaml)/']},
    },
    {
      name: 'src-not-outside-src',
      comment: 'shipped code does not reach into test/, scripts/ or bench/.',
      severity: 'error',
      from: {path: '^src/'},
      to: {path: '^(test|scripts|bench)/'},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve cannot be checked (or run).',
      severity: 'error',
      from: {},
      to: {couldNotResolve: true},
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
}
