/**
 * The thread behind PipelineParser: parses one pipeline text per message, so that a large or
 * hostile YAML costs this thread's time and memory, never the master's event loop.
 */
import { parentPort } from 'node:worker_threads';
import { TitanError } from '../core/errors.js';
import { readPipelineYaml } from '../core/pipeline-yaml.js';
import type { ParseReply, ParseRequest } from './pipeline-parser.js';

const port = parentPort;
if (port) {
  port.on('message', ({ id, text, path }: ParseRequest) => {
    let reply: ParseReply;
    try {
      reply = { id, source: readPipelineYaml(text, path) };
    } catch (err) {
      const e = err instanceof TitanError ? err : new TitanError('BAD_REQUEST', `${path}: ${(err as Error).message}`);
      reply = { id, error: { code: e.code, message: e.message } };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true } satisfies ParseReply);
}
