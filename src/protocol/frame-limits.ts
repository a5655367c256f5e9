/**
 * The frame's header size, versions and payload limits: the numbers the wire's schemas need,
 * apart from the byte handling of frame.ts so the schemas stay free of Node's Buffer.
 */
export const HEADER_SIZE = 8;
export const V1 = 1;
export const V2 = 2;
/** Titan's limit for v1 frames (exactly 10 MiB is allowed). */
export const V1_MAX_PAYLOAD = 10 * 1024 * 1024;
/** v2 moves large data in chunks, so its frames stay small. */
export const V2_MAX_PAYLOAD = 16 * 1024 * 1024;
