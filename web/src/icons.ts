/**
 * Every icon of the dashboard, by what it stands for: statuses (by tone), states that are not
 * statuses, the navigation's entries and actions. SVGs from lucide-react, so they draw the same
 * without an emoji or symbol font; change an icon here and it changes everywhere.
 */
import { createElement, type ReactElement } from 'react';
import {
  ArrowDown,
  ArrowLeft,
  ArrowUp,
  Ban,
  Bot,
  CalendarClock,
  Check,
  ChevronDown,
  ChevronRight,
  ChevronsUpDown,
  ChevronUp,
  Circle,
  CircleCheck,
  CircleDot,
  CircleDotDashed,
  CircleX,
  Clock,
  Cog,
  Cpu,
  Database,
  Flag,
  FolderArchive,
  Hourglass,
  KeyRound,
  LayoutDashboard,
  List,
  ListOrdered,
  type LucideIcon,
  Menu,
  Moon,
  Pause,
  Pencil,
  Play,
  RotateCw,
  Scale,
  SkipForward,
  Square,
  Sun,
  Trash2,
  TriangleAlert,
  Unplug,
  Webhook,
  Workflow,
  X,
} from 'lucide-react';
import type { Tone } from './status.ts';

export type { LucideIcon };

/** A job's or run's status, by its tone (the same tone always shows the same icon). */
export const TONE_ICONS: Readonly<Record<Tone, LucideIcon>> = {
  pending: Circle,
  queued: Clock,
  running: Play,
  completed: CircleCheck,
  failed: RotateCw,
  dead: CircleX,
  cancelled: Ban,
  skipped: SkipForward,
  approval: Flag,
};

/** States that are not job or run statuses: workers, schedules, gate decisions. */
export const STATE_ICONS = {
  workerConnected: CircleDot,
  workerDraining: CircleDotDashed,
  workerDisconnected: Unplug,
  scheduleActive: CalendarClock,
  schedulePaused: Pause,
  gateWaiting: Flag,
  gateApproved: CircleCheck,
  gateRejected: CircleX,
  gateTimedOut: Hourglass,
  unsaved: Circle,
  deliveryAccepted: CircleCheck,
  deliveryRefused: CircleX,
} as const satisfies Record<string, LucideIcon>;

/** Jobs that are not plain tasks, by kind. */
export const KIND_ICONS: Readonly<Record<string, LucideIcon>> = {
  service: Cog,
  approval: Flag,
};

/** The main navigation's entries, by the path they open. */
export const NAV_ICONS: Readonly<Record<string, LucideIcon>> = {
  '/': LayoutDashboard,
  '/runs': List,
  '/constructor': Workflow,
  '/approvals': Flag,
  '/agent-runs': Bot,
  '/services': Cog,
  '/schedules': CalendarClock,
  '/triggers': Webhook,
  '/store': Database,
  '/artifacts': FolderArchive,
  '/workers': Cpu,
  '/queue': ListOrdered,
  '/audit': Scale,
  '/access': KeyRound,
};

/** What buttons and marks do. */
export const ACTION_ICONS = {
  menu: Menu,
  close: X,
  back: ArrowLeft,
  cancel: Ban,
  rerun: RotateCw,
  retry: RotateCw,
  edit: Pencil,
  remove: Trash2,
  approve: Check,
  reject: X,
  stop: Square,
  warning: TriangleAlert,
  lightTheme: Sun,
  darkTheme: Moon,
  sortAscending: ChevronUp,
  sortDescending: ChevronDown,
  sortable: ChevronsUpDown,
  expand: ChevronRight,
  collapse: ChevronDown,
  previous: ArrowUp,
  next: ArrowDown,
} as const satisfies Record<string, LucideIcon>;

/** The icon of a job's kind; none for a plain task. */
export function KindIcon({ kind }: { kind: string }): ReactElement | null {
  const icon = KIND_ICONS[kind];
  return icon ? Icon({ icon }) : null;
}

/** An icon beside words that say the same: hidden from screen readers, sized to the text. */
export function Icon({ icon, className }: { icon: LucideIcon; className?: string | undefined }): ReactElement {
  return createElement(icon, { 'aria-hidden': true, focusable: false, size: '1.1em', strokeWidth: 2.2, className: className ? `icon ${className}` : 'icon' });
}
