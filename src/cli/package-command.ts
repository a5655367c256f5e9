/** `titan package`: the master and worker bundles of a multi-VM deployment, built in a checkout. */
import type { Command } from 'commander';
import { json, jsonOption, loadPart, print, UsageError } from './connection.js';
import { bytes } from './format.js';

export function registerPackageCommand(program: Command): void {
  program
    .command('package')
    .description('build dist/titan-master-bundle.zip and dist/titan-worker-bundle.zip for a multi-VM deployment (in a checkout, after npm run build)')
    .option('--out <dir>', 'folder for the zips (default: dist/ of the checkout)')
    .addOption(jsonOption('print the bundles as JSON'))
    .action(async (o: { out?: string; json: boolean }) => {
      const { buildBundles, PackagingError } = await loadPart('titan package', 'a Titan checkout', () => import('../packaging/bundles.js'));
      let built;
      try {
        built = buildBundles({ ...(o.out !== undefined && { outDir: o.out }) });
      } catch (err) {
        if (err instanceof PackagingError) throw new UsageError(err.message);
        throw err;
      }
      if (o.json) return json(built.map(({ kind, path, bytes, files, sha256 }) => ({ kind, path, bytes, files, sha256 })));
      for (const b of built) print(`${b.kind.padEnd(6)} ${b.path}  ${bytes(b.bytes)} (${b.files} files)  sha256 ${b.sha256}`);
    });
}
