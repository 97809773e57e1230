/** How the banner (reporter.ts, terminal-screen.ts) says who may open a session. */

/** A `--private` session. */
export const PRIVATE_WORDS = 'private: the server relays nothing; viewers need the full link (P2P, verified with its key)';
/** A session with a viewer password, whichever way it was given (--password, --password-file, WINGMAN_PASSWORD). */
export const PASSWORD_WORDS = 'viewers need the password';
