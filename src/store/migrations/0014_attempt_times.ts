/**
 * The times a timeline needs: when a job last entered the queue, and per attempt when it was
 * queued and when its process started after staging (null for rows written before).
 */
export const sql = `
ALTER TABLE jobs ADD COLUMN queued_at INTEGER;
ALTER TABLE attempts ADD COLUMN queued_at INTEGER;
ALTER TABLE attempts ADD COLUMN running_at INTEGER;
`;
