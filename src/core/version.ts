/** This build's version, reported by the CLI and in HELLO replies. */
export const VERSION = '0.1.0';
