/**
 * The folder where the runner keeps a run's jest results for the census (WINGMAN_TEST_RESULTS_DIR) is the run's alone:
 * the tests it runs do not see it, so a test that starts the runner itself (test-runner-phases, the census's own test)
 * cannot write its results over the run's. test/integration/test-runner-phases.test.ts runs this file so.
 */
describe('the census results folder', () => {
  it('is not passed on to the tests', () => {
    expect(process.env.WINGMAN_TEST_RESULTS_DIR).toBeUndefined();
  });
});
