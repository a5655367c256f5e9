/** A key prefix as crumbs (the artifacts and the store pages): each one browses to that prefix. */

/** The cumulative prefixes of `prefix`, cut after each of `separators` (`a:b/c` by "/:" → `a:`, `a:b/`, `a:b/c`). */
export function crumbsOf(prefix: string, separators: string): string[] {
  const crumbs: string[] = [];
  for (let i = 0; i < prefix.length; i++) {
    if (separators.includes(prefix[i] as string)) crumbs.push(prefix.slice(0, i + 1));
  }
  if (prefix !== '' && crumbs[crumbs.length - 1] !== prefix) crumbs.push(prefix);
  return crumbs;
}

/** `all` browses to every key (and is the current place while there are no crumbs); the last crumb is the current one. */
export function PrefixCrumbs({ crumbs, all, onBrowse }: { crumbs: string[]; all: string; onBrowse: (prefix: string) => void }) {
  return (
    <nav className="pg-crumbs" aria-label="Prefix">
      <ol>
        <li>
          {crumbs.length === 0 ? (
            <span aria-current="location">{all}</span>
          ) : (
            <button type="button" className="link-button" onClick={() => onBrowse('')}>
              {all}
            </button>
          )}
        </li>
        {crumbs.map((c, i) => (
          <li key={c}>
            {i === crumbs.length - 1 ? (
              <code aria-current="location">{c.slice((crumbs[i - 1] ?? '').length)}</code>
            ) : (
              <button type="button" className="link-button" onClick={() => onBrowse(c)}>
                <code>{c.slice((crumbs[i - 1] ?? '').length)}</code>
              </button>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}
