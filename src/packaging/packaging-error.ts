/** A bundle that cannot be built; the message says what to do (build, install, run in a checkout). */
export class PackagingError extends Error {}
