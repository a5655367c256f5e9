/** A service job's live facts (port, pid, readiness, restarts) as JSON; null for other jobs. */
export const sql = `
ALTER TABLE jobs ADD COLUMN service TEXT;
`;
