/** The layer rules of docs/architecture.md, enforced by `npm run lint`. */
/** protocol/'s modules that use Node (sockets, Buffer, crypto, files); web/tsconfig.json leaves them out too. */
const NODE_ONLY_PROTOCOL = '^src/protocol/(artifact-transfer|derived-tokens|frame|peer|tls-dial)\\.ts$';
/** What the dashboard may import: core/ and the rest of protocol/. */
const BROWSER_SAFE = '^src/(core/|protocol/(?!(artifact-transfer|derived-tokens|frame|peer|tls-dial)\\.ts$))';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'core-is-pure', comment: 'core/ imports nothing of ours but itself and no I/O modules', severity: 'error', from: { path: '^src/core' }, to: { path: ['^src/(?!core)', '^(node:)?(fs|net|http|child_process|os|path|timers)$'] } },
    { name: 'store-sees-only-core', severity: 'error', from: { path: '^src/store' }, to: { path: '^src/(?!core|store)' } },
    { name: 'master-knows-no-transport', severity: 'error', from: { path: '^src/master' }, to: { path: '^src/(server|cli|sdk|worker|mcp)' } },
    { name: 'clients-reach-master-by-protocol', severity: 'error', from: { path: '^src/(worker|sdk|mcp)' }, to: { path: '^src/(master|server|store|cli)' } },
    { name: 'mcp-builds-on-sdk', comment: 'mcp/ is a client like the SDK it builds on: it imports sdk/, core/ and itself, and protocol/ for types only', severity: 'error', from: { path: '^src/mcp' }, to: { path: '^src/(?!(sdk|core|protocol|mcp)/)' } },
    { name: 'mcp-sees-protocol-types-only', severity: 'error', from: { path: '^src/mcp' }, to: { path: '^src/protocol/', dependencyTypesNot: ['type-only'] } },
    {
      name: 'wire-types-use-no-node-module',
      comment: 'the dashboard imports core/ and the wire\'s types and schemas (protocol/ but its Node-only modules): they load no Node built-in',
      severity: 'error',
      from: { path: BROWSER_SAFE },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'wire-types-skip-node-only-protocol',
      comment: 'framing, peers, TLS dialling, token derivation and artifact transfer use Node: the browser-safe modules do not reach them',
      severity: 'error',
      from: { path: BROWSER_SAFE },
      to: { path: NODE_ONLY_PROTOCOL },
    },
    { name: 'only-cli-starts-mcp', comment: 'the MCP server is a command: nothing but cli/ loads it', severity: 'error', from: { path: '^src/(?!(cli|mcp)/)' }, to: { path: '^src/mcp/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
