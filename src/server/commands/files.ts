/** Named files on the master: `uploads` (assets, project archives) and `scripts` (the script library). */
import { TitanError } from '../../core/errors.js';
import type { FileArea } from '../../master/file-area.js';
import type { Master } from '../../master/master.js';
import { BLOB_CHUNK_BYTES, type FileAreaName } from '../../protocol/methods.js';
import { command } from './command.js';

const fileArea = (master: Master, area: FileAreaName): FileArea => (area === 'uploads' ? master.uploads : master.registry);

export const fileCommands = {
  'files.list': command('files.list', ({ master }, p) => ({ files: fileArea(master, p.area).list() })),
  'files.put': command('files.put', ({ master }, p) => {
    if (!master.blobs.has(p.sha256)) throw new TitanError('BAD_REQUEST', `upload the content of ${p.name} (sha256 ${p.sha256}) with blob.put first`);
    const { size } = master.blobs.read(p.sha256, 0, 0);
    const data = master.blobs.read(p.sha256, 0, size).data;
    fileArea(master, p.area).put(p.name, data);
    return { name: p.name, size };
  }),
  'files.get': command('files.get', ({ master }, p) => {
    const chunk = fileArea(master, p.area).read(p.name, p.offset, BLOB_CHUNK_BYTES);
    if (!chunk) throw new TitanError('NOT_FOUND', `no file ${p.name} in ${p.area}`);
    return { data: chunk.data.toString('base64'), size: chunk.size };
  }),
  'files.blob': command('files.blob', ({ master }, p) => {
    const content = fileArea(master, p.area).get(p.name);
    if (!content) throw new TitanError('NOT_FOUND', `no file ${p.name} in ${p.area}`);
    return { sha256: master.blobs.putBuffer(content), size: content.length };
  }),
};
