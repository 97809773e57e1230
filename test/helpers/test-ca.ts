/**
 * A throwaway certificate authority for TLS tests (scripts/lib/test-ca.cjs,
 * shared with the network lab): a CA, server certificates it signs with
 * chosen serial numbers, and an NSS home that makes Chromium trust it.
 */
export { createTestCa, type TestCa } from '../../scripts/lib/test-ca.cjs';
