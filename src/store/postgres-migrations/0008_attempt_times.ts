/** As SQLite's 0014: when a job last entered the queue, and per attempt when it was queued and when its process started. */
export const sql = `
ALTER TABLE jobs ADD COLUMN queued_at BIGINT;
ALTER TABLE attempts ADD COLUMN queued_at BIGINT;
ALTER TABLE attempts ADD COLUMN running_at BIGINT;
`;
