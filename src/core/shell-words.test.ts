import { describe, expect, it } from 'vitest';
import { ShellWordsError, splitShellWords } from './shell-words.js';

describe('splitShellWords', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['--epochs 3', ['--epochs', '3']],
    ['  a\t b \n c  ', ['a', 'b', 'c']],
    ["--name 'two words'", ['--name', 'two words']],
    ['--name "two words"', ['--name', 'two words']],
    ['--flag=\'a b\'c', ['--flag=a bc']],
    ["'' \"\"", ['', '']],
    ["'it''s'", ['its']],
    ["\"it's\"", ["it's"]],
    ["'no \\escape \"here\"'", ['no \\escape "here"']],
    ['"say \\"hi\\" \\\\ \\$HOME \\n"', ['say "hi" \\ $HOME \\n']],
    ['a\\ b c', ['a b', 'c']],
    ['\\\'quoted\\\'', ["'quoted'"]],
    ['one\\\ntwo', ['onetwo']],
    ['$HOME *.py ~', ['$HOME', '*.py', '~']],
    ['--json \'{"a": 1}\'', ['--json', '{"a": 1}']],
  ])('%j → %j', (text, words) => {
    expect(splitShellWords(text)).toEqual(words);
  });

  it.each([
    ["'open", /unclosed single quote at character 1/],
    ['a "open', /unclosed double quote at character 3/],
    ['trailing\\', /lone backslash/],
  ])('refuses %j', (text, message) => {
    expect(() => splitShellWords(text)).toThrow(ShellWordsError);
    expect(() => splitShellWords(text)).toThrow(message);
  });
});
