// Prints one plain closing line, `N passed, N failed, N skipped`, for CI and humans.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failedSuites = results.numFailedTestSuites ? ` (${results.numFailedTestSuites} suites failed)` : '';
    process.stdout.write(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped${failedSuites}\n`);
  }
}
module.exports = SummaryReporter;
