/** A job added at runtime by a job of its run remembers which one (added_by): the dashboard draws it. */
export const sql = `
ALTER TABLE jobs ADD COLUMN added_by TEXT;
`;
