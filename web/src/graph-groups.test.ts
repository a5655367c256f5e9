import { describe, expect, it } from 'vitest';
import { NODE_WIDTH } from './graph.ts';
import { frameSize, GROUP_HEIGHT, GROUP_MIN, GROUP_PAGE, groupCounts, groupEdgeState, groupJobs, groupStatus, idPattern, memberOffset, pageOf, unitBoxes } from './graph-groups.ts';
import { boundsOf, READABLE_ZOOM, readableViewport } from './graph-viewport.ts';

const fanOut = (n: number, child = (i: number) => `shard-${i}`) => [
  { id: 'root', dependsOn: [] },
  ...Array.from({ length: n }, (_, i) => ({ id: child(i), dependsOn: ['root'] })),
  { id: 'join', dependsOn: Array.from({ length: n }, (_, i) => child(i)) },
];

describe('job groups', () => {
  it('reads id patterns from the last number', () => {
    expect(idPattern('shard-17')).toBe('shard-*');
    expect(idPattern('part7.csv')).toBe('part*.csv');
    expect(idPattern('42')).toBe('*');
    expect(idPattern('prepare')).toBeNull();
  });

  it('collapses a fan-out into one group, in natural order, with the edges between what is drawn', () => {
    const g = groupJobs(fanOut(300));
    expect(g.groups).toHaveLength(1);
    const [group] = g.groups;
    expect(group?.id).toBe('group:shard-0');
    expect(group?.pattern).toBe('shard-*');
    expect(group?.members.slice(0, 3)).toEqual(['shard-0', 'shard-1', 'shard-2']);
    expect(group?.members[10]).toBe('shard-10');
    expect(g.units).toEqual(['root', 'group:shard-0', 'join']);
    expect(g.edges).toEqual([
      ['root', 'group:shard-0'],
      ['group:shard-0', 'join'],
    ]);
  });

  it('leaves small fan-outs alone', () => {
    const g = groupJobs(fanOut(GROUP_MIN - 1));
    expect(g.groups).toHaveLength(0);
    expect(g.units).toHaveLength(GROUP_MIN + 1);
  });

  it('groups alike jobs without a common pattern together, and splits patterns that are big enough', () => {
    const mixed = groupJobs(fanOut(12, (i) => `${'abcdefghijklmnop'[i]}-step`));
    expect(mixed.groups.map((x) => [x.pattern, x.members.length])).toEqual([[null, 12]]);
    const two = groupJobs([{ id: 'root', dependsOn: [] }, ...Array.from({ length: 24 }, (_, i) => ({ id: i % 2 ? `eval-${i}` : `train-${i}`, dependsOn: ['root'] }))]);
    expect(two.groups.map((x) => x.pattern).sort()).toEqual(['eval-*', 'train-*']);
  });

  it('groups one pattern at one depth even when each member has its own parent (a second fan-out after the first)', () => {
    const n = 50;
    const nodes = [
      { id: 'root', dependsOn: [] },
      ...Array.from({ length: n }, (_, i) => ({ id: `shard-${i}`, dependsOn: ['root'] })),
      ...Array.from({ length: n }, (_, i) => ({ id: `check-${i}`, dependsOn: [`shard-${i}`] })),
      { id: 'join', dependsOn: Array.from({ length: n }, (_, i) => `check-${i}`) },
    ];
    const g = groupJobs(nodes);
    expect(g.units).toEqual(['root', 'group:shard-0', 'group:check-0', 'join']);
    expect(g.edges).toEqual([
      ['root', 'group:shard-0'],
      ['group:shard-0', 'group:check-0'],
      ['group:check-0', 'join'],
    ]);
  });

  it('never groups a chain: its jobs sit at different depths', () => {
    const chain = Array.from({ length: 30 }, (_, i) => ({ id: `step-${i}`, dependsOn: i === 0 ? [] : [`step-${i - 1}`] }));
    expect(groupJobs(chain).groups).toHaveLength(0);
  });

  it('sizes frames by a page of members, places members on a grid, and finds the page of a member', () => {
    const g = groupJobs(fanOut(1000));
    const group = g.groups[0];
    if (!group) throw new Error('no group');
    const collapsed = unitBoxes(g, new Set()).find((b) => b.id === group.id);
    expect(collapsed?.height).toBe(GROUP_HEIGHT);
    const frame = unitBoxes(g, new Set([group.id])).find((b) => b.id === group.id);
    expect(frame).toEqual({ id: group.id, ...frameSize(1000) });
    expect(frameSize(1000)).toEqual(frameSize(GROUP_PAGE));
    const a = memberOffset(0, 1000);
    const b = memberOffset(1, 1000);
    expect(b.x - a.x).toBeGreaterThanOrEqual(NODE_WIDTH);
    expect(b.y).toBe(a.y);
    const last = memberOffset(GROUP_PAGE - 1, 1000);
    expect(last.x + NODE_WIDTH).toBeLessThanOrEqual(frameSize(1000).width);
    expect(pageOf(group, 'shard-0')).toBe(0);
    expect(pageOf(group, `shard-${GROUP_PAGE}`)).toBe(1);
    expect(pageOf(group, 'shard-999')).toBe(Math.floor(999 / GROUP_PAGE));
  });

  it('counts statuses per group and says what edges out of a group mean', () => {
    const g = groupJobs(fanOut(20));
    const status = (id: string) => (id.endsWith('3') ? 'RUNNING' : 'COMPLETED');
    const counts = groupCounts(g.groups, status).get('group:shard-0') ?? {};
    expect(counts).toEqual({ RUNNING: 2, COMPLETED: 18 });
    expect(groupStatus(counts)).toBe('RUNNING');
    expect(groupEdgeState(counts, 20)).toBe('waiting');
    expect(groupEdgeState({ COMPLETED: 20 }, 20)).toBe('done');
    expect(groupEdgeState({ COMPLETED: 19, DEAD: 1 }, 20)).toBe('blocked');
    expect(groupStatus({ COMPLETED: 19, DEAD: 1 })).toBe('DEAD');
  });

  it('groups 10,000 jobs quickly into four units', () => {
    const n = 4999;
    const nodes = [
      { id: 'root', dependsOn: [] },
      ...Array.from({ length: n }, (_, i) => ({ id: `shard-${i}`, dependsOn: ['root'] })),
      ...Array.from({ length: n }, (_, i) => ({ id: `check-${i}`, dependsOn: [`shard-${i}`] })),
      { id: 'join', dependsOn: Array.from({ length: n }, (_, i) => `check-${i}`) },
    ];
    const started = performance.now();
    const g = groupJobs(nodes);
    const ms = performance.now() - started;
    console.log(`grouped 10,000 jobs in ${ms.toFixed(0)} ms`);
    expect(g.units).toHaveLength(4);
    expect(ms).toBeLessThan(3_000);
  });
});

describe('the first view', () => {
  const view = { width: 1000, height: 600 };

  it('fits a small graph whole, no larger than life and a bit', () => {
    const vp = readableViewport({ x: 0, y: 0, width: 400, height: 100 }, view);
    expect(vp.zoom).toBe(1.2);
    // Centred.
    expect(vp.x + 200 * vp.zoom).toBeCloseTo(500);
    expect(vp.y + 50 * vp.zoom).toBeCloseTo(300);
  });

  it('never shrinks a wide graph into a strip: it starts from the left at a readable zoom', () => {
    const vp = readableViewport({ x: 16, y: 16, width: 20_000, height: 300 }, view);
    expect(vp.zoom).toBe(READABLE_ZOOM);
    expect(vp.x + 16 * vp.zoom).toBeCloseTo(24);
  });

  it('starts a tall graph at its top', () => {
    const vp = readableViewport({ x: 0, y: 0, width: 300, height: 20_000 }, view);
    expect(vp.zoom).toBe(READABLE_ZOOM);
    expect(vp.y).toBeCloseTo(24);
  });

  it('bounds laid-out boxes', () => {
    const boxes = [
      { id: 'a', width: 10, height: 10 },
      { id: 'b', width: 20, height: 5 },
    ];
    expect(boundsOf(boxes, new Map([['a', { x: 0, y: 0 }], ['b', { x: 30, y: 40 }]]))).toEqual({ x: 0, y: 0, width: 50, height: 45 });
    expect(boundsOf(boxes, new Map())).toBeNull();
  });
});
