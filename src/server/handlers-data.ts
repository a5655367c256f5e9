/**
 * The data bus (`kv.*`) and artifact (`artifact.*`) methods of a v2 session: parameters are
 * validated here and mapped onto the master's KvService and ArtifactStore. One handler per
 * session, so what a session leaves open (waits, unfinished uploads) ends with its connection.
 */
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { type DataMethod, dataParams, type UploadBegin } from '../protocol/data-methods.js';
import type { Peer } from '../protocol/peer.js';
import { describeIssues } from '../protocol/peer.js';
import { checkRoom, SESSION_LIMITS } from './limits.js';

export function parseData<M extends DataMethod>(method: M, raw: unknown): ReturnType<(typeof dataParams)[M]['parse']> {
  const result = dataParams[method].safeParse(raw ?? {});
  if (!result.success) throw new TitanError('BAD_REQUEST', `invalid parameters for ${method}: ${describeIssues(result.error.issues)}`);
  return result.data as ReturnType<(typeof dataParams)[M]['parse']>;
}

export type DataHandler = (method: DataMethod, raw: unknown) => Promise<unknown>;

/** What a session may upload: the upload as asked, or as it must be recorded; throws FORBIDDEN otherwise (see upload-checks.ts). */
export type UploadCheck = (begin: UploadBegin) => UploadBegin;

export function dataHandler(peer: Peer, master: Master, checkUpload: UploadCheck = (begin) => begin): DataHandler {
  const waits = new Set<() => void>();
  const uploads = new Set<string>();
  peer.onClose(() => {
    for (const cancel of waits) cancel();
    waits.clear();
    for (const id of uploads) void master.artifacts.abort(id);
    uploads.clear();
  });
  const { kv, artifacts } = master;

  return async (method, raw) => {
    switch (method) {
      case 'kv.get':
        return kv.get(parseData(method, raw).key);
      case 'kv.set': {
        const p = parseData(method, raw);
        return kv.set(p.key, p.value, p.ttlMs ?? null);
      }
      case 'kv.del':
        return kv.del(parseData(method, raw).key);
      case 'kv.incr': {
        const p = parseData(method, raw);
        return kv.incr(p.key, p.by);
      }
      case 'kv.cas': {
        const p = parseData(method, raw);
        return kv.cas(p.key, p.expected, p.value, p.ttlMs ?? null);
      }
      case 'kv.sadd': {
        const p = parseData(method, raw);
        return kv.sadd(p.key, p.members);
      }
      case 'kv.srem': {
        const p = parseData(method, raw);
        return kv.srem(p.key, p.members);
      }
      case 'kv.smembers':
        return kv.smembers(parseData(method, raw).key);
      case 'kv.keys': {
        const p = parseData(method, raw);
        return kv.keys(p.prefix, p.limit);
      }
      case 'kv.wait': {
        const p = parseData(method, raw);
        checkRoom(waits.size, SESSION_LIMITS.waits, 'kv.wait calls');
        const wait = kv.wait(p.key, p.sinceVersion, p.timeoutMs);
        waits.add(wait.cancel);
        try {
          return await wait.result;
        } finally {
          waits.delete(wait.cancel);
        }
      }
      case 'artifact.put.begin': {
        const p = checkUpload(parseData(method, raw));
        checkRoom(uploads.size, SESSION_LIMITS.uploads, 'unfinished artifact uploads');
        const begun = await artifacts.begin(p);
        uploads.add(begun.uploadId);
        return begun;
      }
      case 'artifact.put.part': {
        const p = parseData(method, raw);
        return artifacts.part(p.uploadId, p.offset, Buffer.from(p.data, 'base64'));
      }
      case 'artifact.put.commit': {
        const p = parseData(method, raw);
        uploads.delete(p.uploadId);
        return { artifact: await artifacts.commit(p.uploadId, p.sha256) };
      }
      case 'artifact.get': {
        const p = parseData(method, raw);
        const chunk = await artifacts.read(p.key, p.offset, p.limit, p.sha256);
        return { artifact: chunk.artifact, data: chunk.data.toString('base64'), nextOffset: chunk.nextOffset };
      }
      case 'artifact.list': {
        const p = parseData(method, raw);
        return artifacts.list(p.prefix, p.runId, p.limit);
      }
      case 'artifact.delete':
        return { deleted: await artifacts.delete(parseData(method, raw).key) };
    }
  };
}
