/**
 * How a tool is declared: a name, a title and description for the model, annotations saying
 * whether it only reads, writes or destroys, a zod input schema, and a handler that sees only input
 * the schema accepted. A failure, whether bad input or the master's refusal, comes back as a tool
 * error (`isError`) carrying the message and its code, and the server goes on.
 */
import type { McpServer, ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { TitanError } from '../core/errors.js';

/** Text as it is, a ready tool result, or anything else as pretty-printed JSON. */
export type Reply = string | CallToolResult | object;

export interface ToolMeta {
  title: string;
  description: string;
  annotations: ToolAnnotations;
}

/** Registers one tool. */
export type DefineTool = <S extends z.ZodType>(name: string, meta: ToolMeta, schema: S, handler: (args: z.output<S>) => Promise<Reply>) => void;

export const readOnly: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
export const writes: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };
export const destroys: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, openWorldHint: false };

/** The registrar of `server`'s tools; `log` hears of every failed call. */
export function toolDefiner(server: McpServer, log: (line: string) => void): DefineTool {
  return (name, meta, schema, handler) => {
    // The SDK validates the arguments with `schema` first; they are parsed again here so the
    // handler's input is checked whatever the SDK does.
    const run = async (args: unknown): Promise<CallToolResult> => {
      try {
        const parsed = schema.safeParse(args ?? {});
        if (!parsed.success) return failure(`invalid input: ${issues(parsed.error)}`);
        return reply(await handler(parsed.data));
      } catch (err) {
        const message = errorText(err);
        log(`${name}: ${message}`);
        return failure(message);
      }
    };
    server.registerTool(name, { title: meta.title, description: meta.description, inputSchema: schema, annotations: { title: meta.title, ...meta.annotations } }, run as ToolCallback<typeof schema>);
  };
}

function reply(value: Reply): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if ('content' in value && Array.isArray((value as CallToolResult).content)) return value as CallToolResult;
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
}

function failure(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function errorText(err: unknown): string {
  if (err instanceof TitanError) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}
