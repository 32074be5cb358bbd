package org.exportpipeline.harness.tools;

/** A command line that cannot be run as given: one line on stderr, exit 2. The message says what to change. */
final class Usage extends Exception {
  Usage(String message) {
    super(message);
  }
}
