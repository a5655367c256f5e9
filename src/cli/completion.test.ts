import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Argument, Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandTree, completionScript } from './completion.js';

function sample(): Command {
  const program = new Command('titan').version('1.0.0');
  program.command('submit').description("submit a pipeline: it's queued").argument('<file>').option('--wait', 'follow it').option('--master <host:port>', 'where');
  program.command('runs').addOption(new Option('--status <status>', 'only these').choices(['RUNNING', 'FAILED']));
  const workers = program.command('workers').description('workers');
  workers.command('list', { isDefault: true }).option('--json', 'JSON');
  workers.command('shutdown').argument('<worker>').option('--force', 'even permanent');
  program.command('files').addArgument(new Argument('[area]').choices(['uploads', 'scripts']));
  program.command('secret').addOption(new Option('--hidden-one').hideHelp());
  return program;
}

describe('commandTree', () => {
  it('lists every command path with its subcommands, long options and choices', () => {
    const tree = commandTree(sample());
    expect(tree.map((c) => c.path)).toEqual(['', 'submit', 'runs', 'workers', 'workers list', 'workers shutdown', 'files', 'secret']);
    const root = tree[0];
    expect(root?.subcommands.map((s) => s.name)).toEqual(['submit', 'runs', 'workers', 'files', 'secret', 'help']);
    expect(root?.options.map((o) => o.long)).toEqual(['--version', '--help']);
    expect(tree.find((c) => c.path === 'submit')?.options).toContainEqual({ long: '--master', description: 'where', takesValue: true, choices: [] });
    expect(tree.find((c) => c.path === 'runs')?.options).toContainEqual({ long: '--status', description: 'only these', takesValue: true, choices: ['RUNNING', 'FAILED'] });
    expect(tree.find((c) => c.path === 'files')?.argChoices).toEqual(['uploads', 'scripts']);
    expect(tree.find((c) => c.path === 'secret')?.options.map((o) => o.long)).toEqual(['--help']);
  });
});

describe('completionScript', () => {
  it('bash: completes commands, subcommands, options and choices', () => {
    const dir = mkdtempSync(join(tmpdir(), 'titan-completion-'));
    try {
      const script = join(dir, 'titan.bash');
      writeFileSync(script, completionScript('bash', sample()));
      const complete = (...words: string[]): string =>
        execFileSync('bash', ['-c', `source ${JSON.stringify(script)}; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _titan_complete; echo "\${COMPREPLY[*]}"`, 'bash', ...words], { encoding: 'utf8' }).trim();
      expect(complete('titan', '')).toBe('submit runs workers files secret help');
      expect(complete('titan', 'wo')).toBe('workers');
      expect(complete('titan', 'workers', '')).toBe('list shutdown help');
      expect(complete('titan', 'workers', 'shutdown', '--')).toBe('--force --help');
      expect(complete('titan', 'submit', '--w')).toBe('--wait');
      expect(complete('titan', 'runs', '--status', '')).toBe('RUNNING FAILED');
      expect(complete('titan', 'files', '')).toBe('uploads scripts');
      // After an option that takes a free value, and for plain arguments, the shell completes file names.
      expect(complete('titan', 'submit', '--master', '')).toBe('');
      expect(complete('titan', 'submit', '')).toBe('');
      // npx titan …: the same completions; npx running anything else is left to the default.
      expect(complete('npx', 'titan', 'wo')).toBe('workers');
      expect(complete('npx', 'titan', 'workers', '')).toBe('list shutdown help');
      expect(complete('npx', 'titan', 'runs', '--status', '')).toBe('RUNNING FAILED');
      expect(complete('npx', 'other', '')).toBe('');
      expect(complete('npx', 'ti')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('zsh: describes commands and options, and registers itself with compdef', () => {
    const script = completionScript('zsh', sample());
    expect(script.startsWith('#compdef titan\n')).toBe(true);
    expect(script).toContain(`'submit:submit a pipeline: it'\\''s queued'`);
    expect(script).toContain("'--status:only these'");
    expect(script).toContain("'runs|--status') compadd -- 'RUNNING' 'FAILED'; return ;;");
    expect(script).toContain('compdef _titan titan');
    expect(script).toContain('(( $+_comps[npx] )) || compdef _titan npx');
    expect(script).toContain('[[ "${words[2]}" == titan ]] && (( CURRENT > 2 )) || { _files; return }');
  });

  it('fish: one complete line per command and option, with conditions on the command typed', () => {
    const script = completionScript('fish', sample());
    expect(script).toContain("complete -c titan -f -n '__titan_is \\'\\'' -a 'submit' -d 'submit a pipeline: it\\'s queued'");
    expect(script).toContain("complete -c titan -n '__titan_is \\'workers shutdown\\'' -l force -d 'even permanent'");
    expect(script).toContain("complete -c titan -n '__titan_is \\'runs\\'' -l status -x -a 'RUNNING FAILED' -d 'only these'");
    expect(script).toContain("complete -c titan -n '__titan_is \\'submit\\'' -l master -r -d 'where'");
    expect(script).toContain("complete -c npx -f -n 'test (count (commandline -opc)) -ge 2; and test (commandline -opc)[2] = titan' -a '(__titan_npx)'");
  });
});
