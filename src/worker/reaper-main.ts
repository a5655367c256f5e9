/**
 * Orphan reaper helper, started once per worker by Reaper. It reads `+<pgid>` / `-<pgid>` lines
 * from the worker on stdin. When stdin ends without the clean-exit line `.` (the worker died,
 * even by SIGKILL, since the kernel closes the pipe), it SIGKILLs every group still listed.
 * Self-contained on purpose: it must start fast and depend on nothing that could fail to load.
 */
export {}; // a module, so these names stay local

const groups = new Set<number>();
let clean = false;
let pending = '';
let finished = false;

function handle(line: string): void {
  if (line === '.') {
    clean = true;
    return;
  }
  const pgid = Number(line.slice(1));
  if (!Number.isInteger(pgid) || pgid <= 1) return; // never signal -1 (everything) or -0 (our own group)
  if (line[0] === '+') groups.add(pgid);
  else if (line[0] === '-') groups.delete(pgid);
}

function finish(): void {
  if (finished) return;
  finished = true;
  if (pending !== '') handle(pending);
  if (!clean) {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }
  }
  process.exit(0);
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  const lines = (pending + chunk).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) handle(line);
});
process.stdin.on('end', finish);
process.stdin.on('close', finish);
process.stdin.on('error', finish);
// A terminal hang-up is not the worker's death; only the pipe tells that.
process.on('SIGHUP', () => undefined);
