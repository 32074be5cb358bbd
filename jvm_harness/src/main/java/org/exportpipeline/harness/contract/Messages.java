package org.exportpipeline.harness.contract;

/**
 * The one-line form of a message for people: a contract error, and every tool's verdict, shows the
 * first line of what it wraps. Thread-safe (stateless).
 */
public final class Messages {
  private Messages() {}

  /** The first non-blank line of a message, or "(no message)". */
  public static String firstLine(String message) {
    String line = message == null ? "" : message.strip().lines().findFirst().orElse("");
    return line.isEmpty() ? "(no message)" : line;
  }
}
