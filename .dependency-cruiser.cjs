/** The layer rules of docs/architecture.md, enforced by `npm run lint`. */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'core-is-pure', comment: 'core/ imports nothing of ours but itself and no I/O modules', severity: 'error', from: { path: '^src/core' }, to: { path: ['^src/(?!core)', '^(node:)?(fs|net|http|child_process|os|path|timers)$'] } },
    { name: 'store-sees-only-core', severity: 'error', from: { path: '^src/store' }, to: { path: '^src/(?!core|store)' } },
    { name: 'master-knows-no-transport', severity: 'error', from: { path: '^src/master' }, to: { path: '^src/(server|cli|sdk|worker|mcp)' } },
    { name: 'clients-reach-master-by-protocol', severity: 'error', from: { path: '^src/(worker|sdk|mcp)' }, to: { path: '^src/(master|server|store|cli)' } },
    { name: 'mcp-builds-on-sdk', comment: 'mcp/ is a client like the SDK it builds on: it imports sdk/, core/ and itself, and protocol/ for types only', severity: 'error', from: { path: '^src/mcp' }, to: { path: '^src/(?!(sdk|core|protocol|mcp)/)' } },
    { name: 'mcp-sees-protocol-types-only', severity: 'error', from: { path: '^src/mcp' }, to: { path: '^src/protocol/', dependencyTypesNot: ['type-only'] } },
    { name: 'only-cli-starts-mcp', comment: 'the MCP server is a command: nothing but cli/ loads it', severity: 'error', from: { path: '^src/(?!(cli|mcp)/)' }, to: { path: '^src/mcp/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
