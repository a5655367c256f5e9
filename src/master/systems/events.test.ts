import { describe, expect, it } from 'vitest';
import { EventBus } from './events.js';

interface TestEvents {
  ping: number;
  note: string;
}

describe('EventBus', () => {
  it('tells every handler of a name, with the key the emitter passed', () => {
    const bus = new EventBus<TestEvents>();
    const heard: [string, number, string][] = [];
    bus.on('ping', (n, key) => heard.push(['a', n, key]));
    bus.on('ping', (n, key) => heard.push(['b', n, key]));
    bus.on('note', () => heard.push(['note', 0, '']));
    bus.emit('ping', 1, 'k1');
    bus.emit('ping', 2);
    expect(heard).toEqual([
      ['a', 1, 'k1'],
      ['b', 1, 'k1'],
      ['a', 2, ''],
      ['b', 2, ''],
    ]);
  });

  it('keyed handlers hear only their key, and only through emitTo', () => {
    const bus = new EventBus<TestEvents>();
    const heard: string[] = [];
    bus.onKey('note', 'r1', (s) => heard.push(`r1:${s}`));
    bus.onKey('note', 'r2', (s) => heard.push(`r2:${s}`));
    bus.emitTo('note', 'r1', 'x');
    bus.emit('note', 'everyone', 'r1');
    expect(heard).toEqual(['r1:x']);
    expect(bus.listensTo('note', 'r1')).toBe(true);
    expect(bus.listensTo('note', 'r3')).toBe(false);
    expect(bus.listensTo('note')).toBe(true);
    expect(bus.listens('note')).toBe(false);
  });

  it('stops a handler, and forgets a key or a name once nothing hears it', () => {
    const bus = new EventBus<TestEvents>();
    const heard: number[] = [];
    const stopAll = bus.on('ping', (n) => heard.push(n));
    const stopKey = bus.onKey('ping', 'k', (n) => heard.push(-n));
    bus.emit('ping', 1);
    bus.emitTo('ping', 'k', 1);
    stopAll();
    stopKey();
    stopKey();
    bus.emit('ping', 2);
    bus.emitTo('ping', 'k', 2);
    expect(heard).toEqual([1, -1]);
    expect(bus.listens('ping')).toBe(false);
    expect(bus.listensTo('ping')).toBe(false);
  });

  it('drops every handler of a key at once', () => {
    const bus = new EventBus<TestEvents>();
    const heard: string[] = [];
    const stop = bus.onKey('note', 'r1', (s) => heard.push(s));
    bus.onKey('note', 'r1', (s) => heard.push(s.toUpperCase()));
    bus.dropKey('note', 'r1');
    bus.emitTo('note', 'r1', 'gone');
    stop();
    expect(heard).toEqual([]);
    expect(bus.listensTo('note', 'r1')).toBe(false);
  });

  it('a handler that stops itself while the event is told does not disturb the others', () => {
    const bus = new EventBus<TestEvents>();
    const heard: string[] = [];
    const stop = bus.onKey('note', 'k', (s) => {
      heard.push(`once:${s}`);
      stop();
    });
    bus.onKey('note', 'k', (s) => heard.push(`always:${s}`));
    bus.emitTo('note', 'k', '1');
    bus.emitTo('note', 'k', '2');
    expect(heard).toEqual(['once:1', 'always:1', 'always:2']);
  });

  it('a handler added while an event is told hears the next one', () => {
    const bus = new EventBus<TestEvents>();
    const heard: number[] = [];
    bus.on('ping', (n) => {
      if (n === 1) bus.on('ping', (m) => heard.push(m * 10));
      heard.push(n);
    });
    bus.emit('ping', 1);
    bus.emit('ping', 2);
    expect(heard).toEqual([1, 2, 20]);
  });

  it('a topic held by an emitter reaches its handlers after the key is dropped, but not one that stopped', () => {
    const bus = new EventBus<TestEvents>();
    const heard: string[] = [];
    bus.onKey('note', 'r1', (s) => heard.push(`a:${s}`));
    const stopB = bus.onKey('note', 'r1', (s) => heard.push(`b:${s}`));
    const held = bus.topic('note', 'r1');
    bus.dropKey('note', 'r1');
    stopB();
    held?.emit('late');
    bus.emitTo('note', 'r1', 'gone');
    expect(heard).toEqual(['a:late']);
    expect(bus.topic('note', 'r1')).toBeUndefined();
  });
});
