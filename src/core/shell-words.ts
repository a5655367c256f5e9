/**
 * Splits an argument string the way a POSIX shell splits words, without running anything:
 * whitespace separates words; single quotes keep everything literally; double quotes keep
 * whitespace and honour backslash before `"`, `\`, `$` and a backquote; outside quotes a
 * backslash makes the next character literal. No variables, globs or substitutions.
 */

/** An argument string that cannot be split: an unclosed quote or a trailing backslash. */
export class ShellWordsError extends Error {}

/** With `comments`, a `#` that starts a word ends the line (a command line); otherwise it is literal (an argument string). */
export function splitShellWords(text: string, options: { comments?: boolean } = {}): string[] {
  const words: string[] = [];
  let word = '';
  /** True once the current word has begun, so that `''` yields an empty argument. */
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (started) words.push(word);
      word = '';
      started = false;
    } else if (c === '#' && !started && options.comments) {
      break;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(`unclosed single quote at character ${i + 1}`);
      word += text.slice(i + 1, end);
      started = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (;; j++) {
        if (j >= text.length) throw new ShellWordsError(`unclosed double quote at character ${i + 1}`);
        const d = text[j] as string;
        if (d === '"') break;
        if (d === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1] as string)) {
          word += text[j + 1];
          j++;
        } else if (d === '\\' && text[j + 1] === '\n') {
          j++;
        } else {
          word += d;
        }
      }
      started = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ShellWordsError('the text ends with a lone backslash');
      // Backslash-newline joins lines, as in a shell.
      if (text[i + 1] !== '\n') {
        word += text[i + 1];
        started = true;
      }
      i++;
    } else {
      word += c;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}
