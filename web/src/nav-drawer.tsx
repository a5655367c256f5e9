/**
 * The main navigation as a drawer on small windows (≤ 640 px wide, styles.css): a menu button in
 * the top bar opens it over the page. The button says whether it is open (aria-expanded);
 * opening moves focus to the first link; Escape, a click beside it or focus leaving it close it
 * (Escape gives focus back to the button); following a link closes it. On wider windows the
 * drawer is the sidebar, always shown, and the button is hidden.
 */
import { type FocusEvent, type ReactNode, type RefObject, useCallback, useEffect, useRef, useState } from 'react';
import { ACTION_ICONS, Icon } from './icons.ts';

const PANEL_ID = 'main-nav';

export interface NavDrawerState {
  open: boolean;
  close: (refocus: boolean) => void;
  panelRef: RefObject<HTMLElement | null>;
  buttonRef: RefObject<HTMLButtonElement | null>;
  /** The menu button, for the top bar. */
  button: ReactNode;
}

export function useNavDrawer(pathname: string): NavDrawerState {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLElement>(null);

  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  }, []);

  // A followed link (or any change of page) closes it.
  useEffect(() => setOpen(false), [pathname]);

  useEffect(() => {
    if (!open) return;
    panelRef.current?.querySelector<HTMLElement>('nav a')?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') close(true);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open, close]);

  const button = (
    <button
      ref={buttonRef}
      type="button"
      className="btn btn-ghost menu-button"
      aria-expanded={open}
      aria-controls={PANEL_ID}
      aria-label="Menu"
      title={open ? 'Close the menu' : 'Open the menu'}
      onClick={() => (open ? close(false) : setOpen(true))}
    >
      <Icon icon={open ? ACTION_ICONS.close : ACTION_ICONS.menu} />
    </button>
  );
  return { open, close, panelRef, buttonRef, button };
}

/** The sidebar: the drawer itself, and the backdrop that closes it when clicked. */
export function NavDrawer({ drawer, children }: { drawer: NavDrawerState; children: ReactNode }) {
  const { open, close, panelRef, buttonRef } = drawer;
  const onBlur = (e: FocusEvent<HTMLElement>): void => {
    const to = e.relatedTarget;
    if (open && to instanceof Node && !panelRef.current?.contains(to) && to !== buttonRef.current) close(false);
  };
  return (
    <>
      <aside id={PANEL_ID} ref={panelRef} className={open ? 'sidebar open' : 'sidebar'} onBlur={onBlur}>
        {children}
      </aside>
      {open && <div className="nav-backdrop" aria-hidden="true" onClick={() => close(false)} />}
    </>
  );
}
