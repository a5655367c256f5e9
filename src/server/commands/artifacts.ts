/**
 * Artifacts on the master's ArtifactStore. An upload is begun, sent in parts and committed on one
 * connection; one the connection leaves unfinished is discarded (see session-state.ts).
 */
import { checkRoom, SESSION_LIMITS } from '../limits.js';
import { command, uploadCommand } from './command.js';

export const artifactCommands = {
  'artifact.put.begin': uploadCommand('artifact.put.begin', async ({ master, session }, p) => {
    const begin = session.checkUpload(p);
    checkRoom(session.uploads.size, SESSION_LIMITS.uploads, 'unfinished artifact uploads');
    const begun = await master.artifacts.begin(begin);
    session.uploads.add(begun.uploadId);
    return begun;
  }),
  'artifact.put.part': uploadCommand('artifact.put.part', ({ master }, p) => master.artifacts.part(p.uploadId, p.offset, Buffer.from(p.data, 'base64'))),
  'artifact.put.commit': uploadCommand('artifact.put.commit', async ({ master, session }, p) => {
    session.uploads.delete(p.uploadId);
    return { artifact: await master.artifacts.commit(p.uploadId, p.sha256) };
  }),
  'artifact.get': command('artifact.get', async ({ master }, p) => {
    const chunk = await master.artifacts.read(p.key, p.offset, p.limit, p.sha256);
    return { artifact: chunk.artifact, data: chunk.data.toString('base64'), nextOffset: chunk.nextOffset };
  }),
  'artifact.list': command('artifact.list', ({ master }, p) => master.artifacts.list(p.prefix, p.runId, p.limit)),
  'artifact.delete': command('artifact.delete', async ({ master }, p) => ({ deleted: await master.artifacts.delete(p.key) })),
};
