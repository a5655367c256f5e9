/**
 * A job's retry budget restarts when a person retries it (retry_base: the attempts used before
 * that); runs carry tags (a JSON array) for finding them again.
 */
export const sql = `
ALTER TABLE jobs ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN tags TEXT;
`;
