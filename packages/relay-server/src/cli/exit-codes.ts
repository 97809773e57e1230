/** The `wingman` process's exit codes (docs/cli.md "Exit codes"): scripts tell a problem they can fix in the command line from one they cannot. */

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

/** The ERR_* codes with an exit code of their own; any other failure is EXIT_FAILURE. */
const EXIT_CODES = new Map([
  ['ERR_SERVER_NOT_FOUND', EXIT_SERVER_NOT_FOUND],
  ['ERR_WRONG_SCHEME', EXIT_WRONG_SERVER],
  ['ERR_TLS_CERTIFICATE', EXIT_WRONG_SERVER],
  ['ERR_NOT_A_TUNNEL_SERVER', EXIT_WRONG_SERVER],
  ['ERR_TOKEN_REFUSED', EXIT_TOKEN_REFUSED],
]);

export function exitCodeFor(code: string): number {
  return EXIT_CODES.get(code) ?? EXIT_FAILURE;
}
