/**
 * The `wingman` process's exit codes (docs/cli.md "Exit codes"): scripts tell a
 * problem they can fix in the command line from one they cannot.
 */

/** Closed on purpose (Ctrl+C, SIGTERM), or `wingman fetch` got a 2xx/3xx. */
export const EXIT_OK = 0;
/** Any other failure (the server refused the session, a protocol error, `wingman fetch` got a 4xx/5xx). */
const EXIT_FAILURE = 1;
/** Bad arguments or environment. */
export const EXIT_USAGE = 2;
/** The tunnel server's host name does not resolve (ERR_SERVER_NOT_FOUND). */
const EXIT_SERVER_NOT_FOUND = 3;
/** Something answers at --server, but not a Wingman tunnel server with that scheme (ERR_WRONG_SCHEME, ERR_TLS_CERTIFICATE, ERR_NOT_A_TUNNEL_SERVER). */
const EXIT_WRONG_SERVER = 4;
/** The tunnel server refused the agent token (ERR_TOKEN_REFUSED). */
const EXIT_TOKEN_REFUSED = 5;

export function exitCodeFor(code: string): number {
  switch (code) {
    case 'ERR_SERVER_NOT_FOUND':
      return EXIT_SERVER_NOT_FOUND;
    case 'ERR_WRONG_SCHEME':
    case 'ERR_TLS_CERTIFICATE':
    case 'ERR_NOT_A_TUNNEL_SERVER':
      return EXIT_WRONG_SERVER;
    case 'ERR_TOKEN_REFUSED':
      return EXIT_TOKEN_REFUSED;
    default:
      return EXIT_FAILURE;
  }
}
