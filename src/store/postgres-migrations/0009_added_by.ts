/** As SQLite's 0015: a job added at runtime by a job of its run remembers which one. */
export const sql = `
ALTER TABLE jobs ADD COLUMN added_by TEXT;
`;
