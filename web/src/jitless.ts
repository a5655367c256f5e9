/**
 * The dashboard's Content-Security-Policy forbids eval, so zod (core's schemas, which the
 * constructor validates with) must neither compile parsers with `new Function` nor probe whether
 * it may: the browser reports even the caught probe as a violation. Imported first by main.tsx.
 */
import { config } from 'zod';

config({ jitless: true });
