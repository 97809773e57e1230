/** Agent version, sent in `register.client` ("wingman/<version>") and printed by `wingman --version`. Kept in step with package.json. */
export const VERSION = '0.1.0';
