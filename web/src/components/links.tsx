/** Links to runs and jobs. */
import type { ReactNode } from 'react';
import { Link } from '../router.tsx';

export const runUrl = (runId: string, jobId?: string | null): string => `/runs/${encodeURIComponent(runId)}${jobId ? `?job=${encodeURIComponent(jobId)}` : ''}`;

/** `runId/jobId` as a link to the job on its run page (a bare id is shown as text). */
export function JobRefLink({ jobRef, label }: { jobRef: string; label?: string }) {
  const slash = jobRef.indexOf('/');
  if (slash < 0) return <code>{jobRef}</code>;
  return (
    <Link to={runUrl(jobRef.slice(0, slash), jobRef.slice(slash + 1))}>
      <code>{label ?? jobRef}</code>
    </Link>
  );
}

export function RunLink({ runId, children }: { runId: string; children?: ReactNode }) {
  return <Link to={runUrl(runId)}>{children ?? <code>{runId}</code>}</Link>;
}
