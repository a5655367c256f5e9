/** A run submitted by a job remembers the run of that job (started_by): the job's token may act on it. */
export const sql = `
ALTER TABLE runs ADD COLUMN started_by TEXT;
`;
