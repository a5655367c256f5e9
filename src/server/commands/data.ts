/** The data bus's keys (`kv.*`) on the master's KvService. */
import { checkRoom, SESSION_LIMITS } from '../limits.js';
import { command, sessionCommand } from './command.js';

export const dataCommands = {
  'kv.get': command('kv.get', ({ master }, p) => master.kv.get(p.key)),
  'kv.set': command('kv.set', ({ master }, p) => master.kv.set(p.key, p.value, p.ttlMs ?? null)),
  'kv.del': command('kv.del', ({ master }, p) => master.kv.del(p.key)),
  'kv.incr': command('kv.incr', ({ master }, p) => master.kv.incr(p.key, p.by)),
  'kv.cas': command('kv.cas', ({ master }, p) => master.kv.cas(p.key, p.expected, p.value, p.ttlMs ?? null)),
  'kv.sadd': command('kv.sadd', ({ master }, p) => master.kv.sadd(p.key, p.members)),
  'kv.srem': command('kv.srem', ({ master }, p) => master.kv.srem(p.key, p.members)),
  'kv.smembers': command('kv.smembers', ({ master }, p) => master.kv.smembers(p.key)),
  'kv.keys': command('kv.keys', ({ master }, p) => master.kv.keys(p.prefix, p.limit)),
  // A wait lasts at most as long as its connection.
  'kv.wait': sessionCommand('kv.wait', async ({ master, session }, p) => {
    checkRoom(session.waits.size, SESSION_LIMITS.waits, 'kv.wait calls');
    const wait = master.kv.wait(p.key, p.sinceVersion, p.timeoutMs);
    session.waits.add(wait.cancel);
    try {
      return await wait.result;
    } finally {
      session.waits.delete(wait.cancel);
    }
  }),
};
