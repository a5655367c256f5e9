/** As SQLite's 0010: a run keeps its own flow settings (fairness group, singleton key, debounce window) as JSON. */
export const sql = `
ALTER TABLE runs ADD COLUMN flow TEXT;
`;
