/**
 * Compile-time check (tsconfig.node.json, run by `npm run lint`) that the mirrored types in
 * src/types.ts still match the server's: each pair must be assignable both ways.
 */
import type * as P from '../src/protocol/methods.ts';
import type * as D from '../src/core/data.ts';
import type { MetricsSample as ServerSample } from '../src/master/metrics-history.ts';
import type * as W from './src/types.ts';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const ok = <T extends true>(): T | undefined => undefined;

export const checks = [
  ok<Same<W.JobView, P.JobView>>(),
  ok<Same<W.RunView, P.RunView>>(),
  ok<Same<W.RunSummary, P.RunSummary>>(),
  ok<Same<W.AgentRunView, P.AgentRunView>>(),
  ok<Same<W.GateView, P.GateView>>(),
  ok<Same<W.GateDecisionResult, P.GateDecisionResult>>(),
  ok<Same<W.WorkerView, P.WorkerView>>(),
  ok<Same<W.ServiceView, P.ServiceView>>(),
  ok<Same<W.ScalingEvent, P.ScalingEvent>>(),
  ok<Same<W.AutoscalerView, P.AutoscalerView>>(),
  ok<Same<W.PoolView, P.PoolView>>(),
  ok<Same<W.Stats, P.Stats>>(),
  ok<Same<W.LogChunk, P.LogChunk>>(),
  ok<Same<W.FileInfo, P.FileInfo>>(),
  ok<Same<W.KvKeyInfo, D.KvKeyInfo>>(),
  ok<Same<W.KvEntry, D.KvEntry>>(),
  ok<Same<W.ArtifactInfo, D.ArtifactInfo>>(),
  ok<Same<W.MetricsSample, ServerSample>>(),
  ok<Same<W.JobDetail, P.Results['job.get']>>(),
  ok<Same<W.GatesList, P.Results['gates.list']>>(),
];
