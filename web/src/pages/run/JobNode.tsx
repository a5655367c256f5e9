/**
 * One job on the run graph: colour, icon and text show its status, with why it waits, its kind
 * and how long it ran. A job found by the graph's search is ringed.
 */
import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import { memo, type ReactNode } from 'react';
import type { JobView } from '../../api.ts';
import { useNow } from '../../components/ui.tsx';
import { formatDuration } from '../../format.ts';
import { Icon, KIND_ICONS, KindIcon, TONE_ICONS } from '../../icons.ts';
import { isTerminalStatus, jobStatusInfo, waitingOf } from '../../status.ts';

export type JobNodeData = { job: JobView; found: boolean };
export type JobNode = Node<JobNodeData, 'job'>;

function Running({ since }: { since: number }) {
  const now = useNow(1000);
  return <>{formatDuration(now - since)}</>;
}

function jobTiming(job: JobView): ReactNode {
  if (job.status === 'RUNNING' && job.startedAt) return <Running since={job.startedAt} />;
  if (job.finishedAt && job.startedAt && isTerminalStatus(job.status)) return formatDuration(job.finishedAt - job.startedAt);
  return null;
}

/** The node's accessible name: its id, status and why it waits. */
export function jobAriaLabel(job: JobView): string {
  const why = waitingOf(job);
  return `${job.spec.id}: ${jobStatusInfo(job.status).label}${why !== null ? `, waiting: ${why}` : ''}`;
}

export const JobNodeView = memo(function JobNodeView({ data, selected }: NodeProps<JobNode>) {
  const { job, found } = data;
  const info = jobStatusInfo(job.status);
  const timing = jobTiming(job);
  const attempts = job.attempt > 1 ? `attempt ${job.attempt}` : '';
  const why = waitingOf(job);
  return (
    <div className={`job-node tone-${info.tone}${selected ? ' is-selected' : ''}${found ? ' is-found' : ''}`} title={`${job.spec.id}: ${info.label} (${why ?? info.description})`}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="job-node-top">
        <Icon icon={TONE_ICONS[info.tone]} className="job-node-symbol" />
        <span className="job-node-id">{job.spec.id}</span>
      </div>
      <div className="job-node-bottom">
        <span className="job-node-status">{info.label}</span>
        {why !== null && <span className="job-node-why">{why}</span>}
        {KIND_ICONS[job.spec.kind] && (
          <span className="job-node-kind" title={job.spec.kind}>
            <KindIcon kind={job.spec.kind} /> {job.spec.kind}
          </span>
        )}
        {(timing || attempts) && (
          <span className="job-node-time">
            {attempts}
            {attempts && timing && ' · '}
            {timing}
          </span>
        )}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
