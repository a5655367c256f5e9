/**
 * `titan mcp`: serves Titan's tools to an MCP client over stdio (src/mcp/server.ts). Standard
 * output carries the protocol, so everything this process says goes to standard error.
 */
import type { Command } from 'commander';
import { TitanError } from '../core/errors.js';
import { formatMaster } from '../protocol/masters.js';
import { type ConnectionFlags, clientFor, connectionOptions, loadPart, mastersFor, UsageError } from './connection.js';

export function registerMcpCommand(program: Command): void {
  connectionOptions(
    program
      .command('mcp')
      .description('serve Titan as MCP tools over stdio, for AI agents (see docs/mcp.md)')
      .option('--root <dir>', 'the only folder submit_yaml may read pipeline scripts from', '.'),
  ).action(async (o: ConnectionFlags & { root: string }) => {
    // Stray console output must not corrupt the protocol on standard output.
    console.log = console.info = console.debug = console.error;
    const log = (line: string): void => void process.stderr.write(`titan mcp: ${line}\n`);
    const [{ createTitanMcpServer, serveStdio }, { RootFolder }, { parsePipeline }] = await Promise.all([loadPart('titan mcp', 'the master bundle or a Titan checkout', () => import('../mcp/server.js')), loadPart('titan mcp', 'the master bundle or a Titan checkout', () => import('../mcp/root.js')), import('./pipeline.js')]);
    let root;
    try {
      root = await RootFolder.open(o.root);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const client = clientFor(o);
    const master = mastersFor(o).map(formatMaster).join(',');
    // A failed request is a tool error; nothing that goes wrong afterwards may take the server down.
    process.on('unhandledRejection', (err) => log(`unexpected: ${err instanceof TitanError ? err.message : ((err as Error)?.stack ?? String(err))}`));
    const server = createTitanMcpServer({ client, root, parsePipeline, master, log });
    const stop = (): void => {
      client.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    log(`serving over stdio; master ${master}, root ${root.path}`);
    await serveStdio(server);
    stop();
  });
}
