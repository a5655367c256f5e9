/** Light and dark themes: the choice is kept in localStorage; without one the system's is used. */
import { useEffect, useSyncExternalStore } from 'react';

export type Theme = 'light' | 'dark';
const KEY = 'titan.theme';

const listeners = new Set<() => void>();
const media = window.matchMedia('(prefers-color-scheme: dark)');

/** The choice when localStorage cannot be used. */
let memory: Theme | null = null;

function stored(): Theme | null {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : memory;
  } catch {
    return memory;
  }
}

export function effectiveTheme(): Theme {
  return stored() ?? (media.matches ? 'dark' : 'light');
}

/** Sets `data-theme` on <html> so styles.css picks the palette. */
export function applyTheme(): void {
  document.documentElement.dataset.theme = effectiveTheme();
}

export function setTheme(theme: Theme | null): void {
  memory = theme;
  try {
    if (theme === null) window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, theme);
  } catch {
    // storage may be disabled: the choice then lasts for this page only
  }
  applyTheme();
  for (const l of listeners) l();
}

media.addEventListener('change', () => {
  applyTheme();
  for (const l of listeners) l();
});

export function useTheme(): [Theme, (t: Theme | null) => void] {
  const theme = useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    effectiveTheme,
  );
  useEffect(applyTheme, [theme]);
  return [theme, setTheme];
}
