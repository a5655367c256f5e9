/**
 * A group of alike jobs on the run graph (see graph-groups.ts): collapsed, one node with its
 * members' status counts that expands on click or Enter; expanded, a frame around a page of its
 * members with buttons to page through them and to collapse it again.
 */
import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import { memo } from 'react';
import { GROUP_PAGE, groupStatus, type JobGroup, pageCount, type StatusCounts } from '../../graph-groups.ts';
import { ACTION_ICONS, Icon } from '../../icons.ts';
import { JOB_STATUS_ORDER, jobStatusInfo } from '../../status.ts';

export type GroupNodeData = { group: JobGroup; counts: StatusCounts };
export type GroupNode = Node<GroupNodeData, 'group'>;

export type FrameNodeData = GroupNodeData & { page: number; onPage: (groupId: string, page: number) => void; onCollapse: (groupId: string) => void };
export type FrameNode = Node<FrameNodeData, 'frame'>;

const count = (n: number): string => n.toLocaleString('en-US');

export function groupName(group: JobGroup): string {
  return group.pattern ?? `${count(group.members.length)} alike jobs`;
}

/** "4,990 completed, 10 running": the statuses present, in the usual order. */
export function countsText(counts: StatusCounts): string {
  return JOB_STATUS_ORDER.filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `${count(counts[s] ?? 0)} ${jobStatusInfo(s).label.toLowerCase()}`)
    .join(', ');
}

export function groupAriaLabel(group: JobGroup, counts: StatusCounts): string {
  return `Group ${groupName(group)} of ${count(group.members.length)} jobs: ${countsText(counts)}. Enter expands it`;
}

function CountsStrip({ counts, total }: { counts: StatusCounts; total: number }) {
  return (
    <div className="counts-bar group-strip" aria-hidden="true">
      {JOB_STATUS_ORDER.filter((s) => (counts[s] ?? 0) > 0).map((s) => (
        <span key={s} className={`counts-seg tone-bg-${jobStatusInfo(s).tone}`} style={{ width: `${((counts[s] ?? 0) / Math.max(1, total)) * 100}%` }} />
      ))}
    </div>
  );
}

export const GroupNodeView = memo(function GroupNodeView({ data }: NodeProps<GroupNode>) {
  const { group, counts } = data;
  const info = jobStatusInfo(groupStatus(counts));
  const text = countsText(counts);
  return (
    <div className={`group-node tone-${info.tone}`} title={`${groupName(group)}: ${text}. Click to show its jobs.`}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="group-node-top">
        <Icon icon={ACTION_ICONS.expand} className="group-node-mark" />
        <span className="group-node-name">{groupName(group)}</span>
        <span className="group-node-total">{count(group.members.length)} jobs</span>
      </div>
      <CountsStrip counts={counts} total={group.members.length} />
      <div className="group-node-counts">{text}</div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

export const FrameNodeView = memo(function FrameNodeView({ data }: NodeProps<FrameNode>) {
  const { group, counts, page, onPage, onCollapse } = data;
  const pages = pageCount(group);
  const first = page * GROUP_PAGE;
  const last = Math.min(group.members.length, first + GROUP_PAGE);
  return (
    <div className="group-frame">
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="group-frame-head">
        <button type="button" className="group-frame-collapse nodrag nopan" onClick={() => onCollapse(group.id)} aria-label={`Collapse group ${groupName(group)}`} title="Collapse the group into one node">
          <Icon icon={ACTION_ICONS.collapse} /> <span className="group-node-name">{groupName(group)}</span>
        </button>
        <span className="group-frame-counts" title={countsText(counts)}>
          {countsText(counts)}
        </span>
        {pages > 1 && (
          <span className="group-frame-pages">
            <button type="button" className="nodrag nopan" disabled={page === 0} onClick={() => onPage(group.id, page - 1)} aria-label="Previous jobs of the group">
              ‹
            </button>
            <span>
              {count(first + 1)}–{count(last)} of {count(group.members.length)}
            </span>
            <button type="button" className="nodrag nopan" disabled={page >= pages - 1} onClick={() => onPage(group.id, page + 1)} aria-label="Next jobs of the group">
              ›
            </button>
          </span>
        )}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
