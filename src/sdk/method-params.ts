/**
 * The parameter schemas of the v2 methods, as the master checks them: for clients that take a
 * method's parameters from their own callers (the MCP server's tools) and check them first.
 */
export { params as METHOD_PARAMS } from '../protocol/methods.js';
