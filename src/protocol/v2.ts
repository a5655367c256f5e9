/**
 * v2: JSON payloads in Titan frames (version byte 2) on a persistent, multiplexed connection.
 * Requests carry an id that the response echoes; either side may push events at any time.
 */
import { z } from 'zod';

export const OP = {
  HELLO: 0x20,
  REQUEST: 0x21,
  RESPONSE: 0x22,
  EVENT: 0x23,
} as const;

export const PROTOCOL_VERSIONS = [2] as const;

export const RequestSchema = z.strictObject({
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
});
export type Request = z.infer<typeof RequestSchema>;

/** `leader`: with NOT_LEADER, the `host:port` of the master that leads now, when known. */
export const ErrorBodySchema = z.strictObject({ code: z.string(), message: z.string(), leader: z.string().max(300).optional() });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const ResponseSchema = z.union([
  z.strictObject({ id: z.number().int().nonnegative(), ok: z.literal(true), result: z.unknown().optional() }),
  z.strictObject({ id: z.number().int().nonnegative().nullable(), ok: z.literal(false), error: ErrorBodySchema }),
]);
export type Response = z.infer<typeof ResponseSchema>;

export const EventSchema = z.strictObject({ event: z.string().min(1).max(64), data: z.unknown().optional() });
export type Event = z.infer<typeof EventSchema>;

export { type ErrorCode, TitanError } from '../core/errors.js';
