/**
 * A jest reporter that names what is running when the run is stopped (CI's `timeout` sends SIGTERM), and
 * warns, while it runs, about a test file that has been running for long. A hang then fails in minutes with
 * the name of the stuck file and test, not after CI's 90.
 */
'use strict';

const WARN_AFTER_MS = 5 * 60_000;

class HangReporter {
  constructor() {
    this.file = undefined;
    this.test = undefined;
    this.since = Date.now();
    this.onSignal = (signal) => {
      process.stderr.write(`\n[ferry tests] stopped by ${signal} while running ${this.describe()}\n`);
      process.exit(124);
    };
    process.once('SIGTERM', this.onSignal);
    process.once('SIGINT', this.onSignal);
    this.watchdog = setInterval(() => {
      if (this.file && Date.now() - this.since > WARN_AFTER_MS)
        process.stderr.write(`\n[ferry tests] still running after ${Math.round((Date.now() - this.since) / 1000)} s: ${this.describe()}\n`);
    }, 60_000);
    this.watchdog.unref();
  }

  describe() {
    if (!this.file) return 'no test file (setup or teardown)';
    const rel = require('node:path').relative(process.cwd(), this.file);
    return `${rel}${this.test ? ` › ${this.test}` : ''} (for ${Math.round((Date.now() - this.since) / 1000)} s)`;
  }

  onTestFileStart(test) {
    this.file = test.path;
    this.test = undefined;
    this.since = Date.now();
  }

  onTestCaseStart(_test, info) {
    this.test = info.fullName;
  }

  onTestFileResult() {
    this.file = undefined;
    this.test = undefined;
  }

  onRunComplete() {
    clearInterval(this.watchdog);
  }
}

module.exports = HangReporter;
