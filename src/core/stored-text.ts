/**
 * Free text a store keeps (a run's name, a gate comment, a value on the data bus, a failure's
 * message). PostgreSQL's text cannot hold U+0000, so no store may be asked to: input with it is
 * refused with this rule, and text a worker reports about a job it ran has it replaced.
 */
export const NUL_RULE = 'must not contain the NUL character (U+0000)';

export const hasNoNul = (text: string): boolean => !text.includes('\u0000');

/** Replaces each U+0000 with U+FFFD, for text that reports what happened rather than asks for something. */
export const scrubNul = (text: string): string => (hasNoNul(text) ? text : text.replaceAll('\u0000', '\uFFFD'));
