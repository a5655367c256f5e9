/** A run keeps its own flow settings (fairness group, singleton key, debounce window) as JSON, so a restart keeps them. */
export const sql = `
ALTER TABLE runs ADD COLUMN flow TEXT;
`;
