/** `client.file`: files kept on the master, in `uploads` (assets, project archives) or `scripts` (the script library). */
import { createHash } from 'node:crypto';
import type { FileAreaName, FileInfo } from '../protocol/methods.js';
import type { Transport } from './connection.js';
import { loadScript, type ScriptSource, uploadBlobs } from './job-input.js';

export class FileClient {
  constructor(private readonly transport: Transport) {}

  /**
   * Stores a file on the master under `name`: in `uploads` (assets, project archives: Titan's
   * `upload_file`) or in `scripts`, the script library (Titan's `deploy_script`).
   */
  async put(area: FileAreaName, source: ScriptSource, name?: string): Promise<{ name: string; size: number }> {
    const file = await loadScript(source);
    const sha256 = createHash('sha256').update(file.content).digest('hex');
    await uploadBlobs(this.transport, new Map([[sha256, file.content]]));
    return this.transport.call('files.put', { area, name: name ?? file.name, sha256 });
  }

  async list(area: FileAreaName): Promise<FileInfo[]> {
    return (await this.transport.call('files.list', { area })).files;
  }

  /** A file of `uploads` or `scripts`, whole. */
  async get(area: FileAreaName, name: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let offset = 0; ; ) {
      const chunk = await this.transport.call('files.get', { area, name, offset });
      const data = Buffer.from(chunk.data, 'base64');
      parts.push(data);
      offset += data.length;
      if (offset >= chunk.size || data.length === 0) return Buffer.concat(parts);
    }
  }
}
