/**
 * Examples shown by `titan <command> --help`. Applied after every command is registered, to each
 * command of this list that does not already show its own help text after the options.
 */
import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';

const EXAMPLES: Record<string, string[]> = {
  up: ['titan up', 'titan up --slots 8 --capabilities GENERAL,GPU', 'titan up --autoscale GENERAL=4', 'titan up --data-dir /srv/titan/data --work-dir /srv/titan/jobs'],
  master: ['titan master --data-dir /var/lib/titan', 'titan master --port 9090 --http-port 5000 --autoscale GPU=2', 'titan master --token-file /etc/titan/cluster-token'],
  worker: ['titan worker --master 10.0.0.5:9090 --token-file /etc/titan/worker-token', 'titan worker --master 10.0.0.5:9090 --capabilities GPU --slots 2 --permanent', 'titan worker --master 10.0.0.5:9090 --drain-timeout 300 --stop-after-disconnect never', "sudo titan worker --master 10.0.0.5:9090 --token-file /etc/titan/worker-token --run-as titan-job --pass-env 'AWS_*'"],
  run: [
    'titan run hello.py -- arg1 "two words"',
    "titan run train.py GPU   (on a GPU worker, as Titan's run <file> <requirement>)",
    'titan run train.py -- GPU   (GPU is an argument of the script)',
    'titan run train.py --requirement TPU --retries 2 --env MODEL=small',
    'titan run api.py --service --port 8080 --readiness /health',
  ],
  submit: ['titan submit pipeline.yaml', 'titan submit pipeline.yaml --wait', 'titan submit pipeline.yaml --json'],
  status: ['titan status r1a2b3c/train', 'titan status train --json', 'titan status r1a2b3c'],
  logs: ['titan logs r1a2b3c/train', 'titan logs train -f', 'titan logs train --attempt 1 --json'],
  cancel: ['titan cancel r1a2b3c/train', 'titan cancel --run r1a2b3c'],
  runs: ['titan runs', 'titan runs --status FAILED --limit 5', 'titan runs --json'],
  workers: ['titan workers', 'titan workers drain 10.0.0.7:8101', 'titan workers undrain 10.0.0.7:8101', 'titan workers shutdown 10.0.0.7:8101'],
  'workers list': ['titan workers list', 'titan workers list --json'],
  'workers drain': ['titan workers drain 10.0.0.7:8101'],
  'workers undrain': ['titan workers undrain 10.0.0.7:8101'],
  'workers shutdown': ['titan workers shutdown 10.0.0.7:8101', 'titan workers shutdown 10.0.0.7:8101 --drain-timeout 5', 'titan workers shutdown 10.0.0.7:8100 --force'],
  limits: ['titan limits', 'titan limits set openai --concurrency 4 --rate 60/minute', 'titan limits rm openai'],
  'limits ls': ['titan limits ls', 'titan limits ls --json'],
  'limits set': ['titan limits set openai --concurrency 4', 'titan limits set openai --rate 60/minute --burst 10', 'titan limits set tenant-acme --weight 3'],
  'limits rm': ['titan limits rm openai'],
  notifications: ['titan notifications', 'titan notifications set failure https://hooks.slack.com/services/T000/B000/XXXX', 'titan notifications deliveries --run RUN_ID'],
  'notifications ls': ['titan notifications ls', 'titan notifications ls --json'],
  'notifications set': ['titan notifications set failure https://hooks.slack.com/services/T000/B000/XXXX', 'titan notifications set gate https://ops.example.com/titan-gates'],
  'notifications rm': ['titan notifications rm success'],
  'notifications key': ['titan secrets set NOTIFY_SIGNING_KEY < notify.key', 'titan notifications key NOTIFY_SIGNING_KEY'],
  'notifications deliveries': ['titan notifications deliveries', 'titan notifications deliveries --run RUN_ID --json'],
  stats: ['titan stats', 'titan stats --json'],
  'agent-runs': ['titan agent-runs', 'titan agent-runs show research-42 -f'],
  'agent-runs list': ['titan agent-runs list --limit 5 --json'],
  'agent-runs show': ['titan agent-runs show research-42', 'titan agent-runs show research-42 -f --json'],
  gates: ['titan gates', 'titan gates --history 10 --json'],
  approve: ['titan approve r1a2b3c/review', 'titan approve review -m "looks good" --by alice'],
  reject: ['titan reject r1a2b3c/review -m "numbers are off"', 'titan reject review --json'],
  token: ['titan token', 'export TITAN_TOKEN=$(titan token --data-dir /var/lib/titan)'],
  secrets: ['printf %s "$OPENAI_API_KEY" | titan secrets set OPENAI_API_KEY', 'titan secrets', 'titan secrets rm OPENAI_API_KEY'],
  'secrets ls': ['titan secrets ls', 'titan secrets ls --json'],
  'secrets rm': ['titan secrets rm OPENAI_API_KEY'],
  store: ['titan store set greeting hello', 'titan store get greeting', 'titan store keys user:', 'titan store incr visits', 'titan store wait model:ready --since 0'],
  'store get': ['titan store get greeting', 'titan store get greeting --json'],
  'store set': ['titan store set greeting hello', 'titan store set session:42 active --ttl 3600'],
  'store del': ['titan store del greeting'],
  'store keys': ['titan store keys', 'titan store keys user: --json'],
  'store incr': ['titan store incr visits', 'titan store incr stock:apples --by -3'],
  'store cas': ['titan store cas state idle busy', 'titan store cas lock me --absent     (take a lock nobody holds)', 'titan store cas lock me --delete     (release it, if still mine)'],
  'store sadd': ['titan store sadd seen a.csv b.csv'],
  'store srem': ['titan store srem seen a.csv'],
  'store smembers': ['titan store smembers seen', 'titan store smembers seen --json'],
  'store wait': ['titan store wait model:ready --since 0 --timeout 600   (returns at once if it exists)', 'titan store wait config   (its next change)'],
  services: ['titan services', 'titan services --json'],
  stop: ['titan stop r1a2b3c/api', 'titan stop api --json'],
  artifacts: ['titan artifacts list --run r1a2b3c', 'titan artifacts get reports/summary.csv', 'titan artifacts put models/v2.bin model.bin'],
  'artifacts list': ['titan artifacts list', 'titan artifacts list runs/r1a2b3c/ --json'],
  'artifacts get': ['titan artifacts get reports/summary.csv', 'titan artifacts get reports/summary.csv -o - | head'],
  'artifacts put': ['titan artifacts put models/v2.bin model.bin'],
  'artifacts rm': ['titan artifacts rm models/v1.bin'],
  schedules: ['titan submit nightly.yaml   (a pipeline with a schedule registers it)', 'titan schedules', 'titan schedules pause nightly'],
  'schedules list': ['titan schedules list', 'titan schedules list --json'],
  'schedules pause': ['titan schedules pause nightly'],
  'schedules resume': ['titan schedules resume nightly'],
  'schedules delete': ['titan schedules delete nightly'],
  'schedules run-now': ['titan schedules run-now nightly'],
  mcp: ['titan mcp --root .', 'titan mcp --master 10.0.0.5:9090 --root ~/pipelines'],
};

const pathOf = (cmd: Command): string => {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
};

export function addExamples(program: Command): void {
  const visit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      const examples = EXAMPLES[pathOf(sub)];
      // A command that shows its own text after the help (addHelpText 'after') keeps it alone.
      if (examples && (sub as unknown as EventEmitter).listenerCount('afterHelp') === 0) sub.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
      visit(sub);
    }
  };
  visit(program);
}
