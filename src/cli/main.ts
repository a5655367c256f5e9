/**
 * The `titan` command. Exit codes: 0 success; 1 the work failed (a job or run did not complete);
 * 2 bad command-line input or pipeline file; 3 the master could not be reached or refused.
 */
import { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { registerAccessCommands } from './access-commands.js';
import { registerSecretCommands } from './secret-commands.js';
import { registerTriggerCommands } from './trigger-commands.js';
import { registerArtifactCommands } from './artifact-commands.js';
import { registerCompletionCommand } from './completion.js';
import { endQuietlyWhenOutputCloses, exitWithFailure } from './failure.js';
import { registerGateCommands } from './gate-commands.js';
import { addExamples } from './help-examples.js';
import { registerCancelCommand, registerStatusCommand } from './job-commands.js';
import { registerLimitsCommands } from './limits-commands.js';
import { registerNotifyCommands } from './notify-commands.js';
import { registerLogsCommand } from './log-commands.js';
import { registerMcpCommand } from './mcp-command.js';
import { registerPackageCommand } from './package-command.js';
import { registerPipelineCommands } from './pipeline-commands.js';
import { registerRunCommand } from './run-command.js';
import { registerAgentRunsCommands, registerRunsCommand } from './runs-commands.js';
import { registerScheduleCommands } from './schedule-commands.js';
import { registerServerCommands } from './server-commands.js';
import { registerServiceCommands } from './service-commands.js';
import { registerShellCommand } from './shell.js';
import { registerStatsCommand } from './stats-command.js';
import { registerStoreCommands } from './store-commands.js';
import { registerTitanCommands } from './titan-commands.js';
import { registerWorkersCommands } from './workers-commands.js';

/** The `titan` program with every command: parsing it runs one (tests parse it without running). */
export const program = new Command('titan')
  .description('Titan: run scripts, pipelines and services across many machines')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  // Commander exits 1 on bad options; this CLI's contract says bad command-line input is 2.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .addHelpText(
    'after',
    `
Examples:
  titan up                               start a local master, a worker and the HTTP endpoints
  titan run hello.py -- arg1 "two words" run one script and show its output
  titan submit pipeline.yaml --wait      run a pipeline and follow its progress
  titan logs <job> -f                    follow a job's output
  titan shell                            Titan's interactive prompt, with history
  titan completion bash                  a completion script (see titan completion --help)
`,
  );

// In the order `titan --help` lists them.
registerServerCommands(program);
registerRunCommand(program);
registerPipelineCommands(program);
registerStatusCommand(program);
registerLogsCommand(program);
registerCancelCommand(program);
registerRunsCommand(program);
registerWorkersCommands(program);
registerLimitsCommands(program);
registerNotifyCommands(program);
registerStatsCommand(program);
registerAgentRunsCommands(program);
registerGateCommands(program);
registerPackageCommand(program);
registerAccessCommands(program);
registerSecretCommands(program);
registerStoreCommands(program);
registerScheduleCommands(program);
registerTriggerCommands(program);
registerServiceCommands(program);
registerArtifactCommands(program);
registerMcpCommand(program);
registerTitanCommands(program);
registerShellCommand(program);
registerCompletionCommand(program);
// Last, once every command exists: examples for the commands that show none of their own.
addExamples(program);

/** Runs the command line (bin/titan.js does). */
export function runTitan(): void {
  endQuietlyWhenOutputCloses();
  program.parseAsync(process.argv).catch(exitWithFailure);
}
