/**
 * The alphabets of ids, capabilities, tags and environment names, apart from the schemas of
 * model.ts so the dashboard checks what a user types by the rule the master applies, without zod.
 */

/** Ids appear in file paths and in `runId/jobId` references, so they are a safe, small alphabet. */
export const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const ID_RULE_TEXT = 'may contain only letters, digits, "_", "-" and "." and must not start with "." or "-"';

export const CAPABILITY_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const CAPABILITY_RULE_TEXT = 'capability tags contain only letters, digits, "_", "-" and "."';

export const TAG_PATTERN = /^[A-Za-z0-9_.:=-]+$/;
export const TAG_RULE_TEXT = 'a tag contains only letters, digits and "_ . : = -"';

export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
