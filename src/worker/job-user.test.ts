import { describe, expect, it } from 'vitest';
import { chooseJobUser, findInPasswd, type JobUser, RunAsError } from './job-user.js';

const PASSWD = ['root:x:0:0:root:/root:/bin/bash', '# a comment', 'builder:x:1000:1000:CI builder,,,:/home/builder:/bin/sh', 'broken:x:abc:1::/:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin', ''].join('\n');
const lookup = (who: string): JobUser | null => findInPasswd(PASSWD, who);

describe('passwd entries', () => {
  it('are found by name or by uid, and malformed lines are skipped', () => {
    expect(findInPasswd(PASSWD, 'builder')).toEqual({ name: 'builder', uid: 1000, gid: 1000, home: '/home/builder' });
    expect(findInPasswd(PASSWD, '65534')?.name).toBe('nobody');
    expect(findInPasswd(PASSWD, 'broken')).toBeNull();
    expect(findInPasswd(PASSWD, 'ghost')).toBeNull();
  });
});

describe('who jobs run as', () => {
  it('a root worker runs them as nobody by default, and says so', () => {
    const choice = chooseJobUser(undefined, 0, lookup);
    expect(choice.user?.uid).toBe(65534);
    expect(choice.notice).toMatch(/^jobs run as nobody \(uid 65534, gid 65534\): the default for a worker started as root/);
  });

  it('a root worker runs them as the --run-as user', () => {
    expect(chooseJobUser('builder', 0, lookup).user).toMatchObject({ name: 'builder', uid: 1000 });
    expect(chooseJobUser('1000', 0, lookup).user?.name).toBe('builder');
  });

  it('--run-as root keeps root, with a loud warning', () => {
    const choice = chooseJobUser('root', 0, lookup);
    expect(choice.user).toBeNull();
    expect(choice.notice).toMatch(/^WARNING: jobs run as root/);
  });

  it('refuses an unknown user, and a root worker on a machine without nobody', () => {
    expect(() => chooseJobUser('ghost', 0, lookup)).toThrow(new RunAsError('--run-as ghost: no such user on this machine'));
    expect(() => chooseJobUser(undefined, 0, () => null)).toThrow(/no user nobody: name an unprivileged user with --run-as USER/);
    expect(() => chooseJobUser('bad name', 0, lookup)).toThrow(/is not a user name or uid/);
  });

  it('a worker not started as root runs jobs as itself, and cannot switch to another user', () => {
    expect(chooseJobUser(undefined, 1000, lookup)).toMatchObject({ user: null, notice: expect.stringMatching(/own user \(uid 1000\)/) });
    expect(chooseJobUser('builder', 1000, lookup).user).toBeNull();
    expect(() => chooseJobUser('nobody', 1000, lookup)).toThrow(/--run-as nobody: only a worker started as root can run jobs as another user, and this one runs as uid 1000/);
    expect(() => chooseJobUser('root', 1000, lookup)).toThrow(/only a worker started as root/);
  });

  it('has no --run-as where there are no user ids', () => {
    expect(chooseJobUser(undefined, undefined, lookup).user).toBeNull();
    expect(() => chooseJobUser('builder', undefined, lookup)).toThrow(/needs a system with user ids/);
  });
});
