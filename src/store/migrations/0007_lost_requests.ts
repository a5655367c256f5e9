/**
 * Attempts lost to the infrastructure are counted apart from the retry budget (lost); a run
 * remembers the client request that created it (request_id), so a retried submission finds it.
 */
export const sql = `
ALTER TABLE jobs ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN request_id TEXT;
CREATE UNIQUE INDEX runs_request ON runs (request_id) WHERE request_id IS NOT NULL;
`;
