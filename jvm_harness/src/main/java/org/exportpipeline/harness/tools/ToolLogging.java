package org.exportpipeline.harness.tools;

import org.exportpipeline.harness.Model;

/**
 * Logging for the command-line tools (SelfCheck, Bench) only: DJL logs through SLF4J at INFO, which
 * would bury their one-line verdicts. The library jar carries no logging configuration, so a service
 * embedding {@link Model} keeps its own; a tool sets slf4j-simple's level only where the JVM's
 * command line did not. Thread-safe (idempotent).
 */
final class ToolLogging {
  private ToolLogging() {}

  static void warningsToStderrUnlessSet() {
    setUnlessSet("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    setUnlessSet("org.slf4j.simpleLogger.logFile", "System.err");
  }

  private static void setUnlessSet(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
