package org.exportpipeline.harness;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The one line of a runtime's failure that says why: OpenVINO puts its source location first and the
 * reason after it, TorchScript a traceback before its "RuntimeError: ..." line, c10 a trailing
 * "Exception raised from" trace. Thread-safe (stateless).
 */
final class Failures {
  /** Lines that only say where, never why. */
  private static final Pattern LOCATION = Pattern.compile(
      "^(Exception from \\S+:\\d*:?|Traceback.*|The following operation failed.*|File \".*|Exception raised from .*|frame #\\d+.*|\\s*~*\\^*~*)$");

  private Failures() {}

  /** The exception's class and its decisive line. */
  static String decisiveLine(Throwable e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    List<String> lines = message.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    String line = lines.isEmpty() ? "(no message)" : lines.get(0);
    if (lines.size() > 1 && LOCATION.matcher(line).matches()) {
      List<String> reasons = lines.stream().filter(l -> !LOCATION.matcher(l).matches()).toList();
      // a traceback's last "XError: ..." line, else the first line that is not a location
      line = reasons.stream().filter(Failures::isError).reduce((first, last) -> last).orElse(reasons.isEmpty() ? line : reasons.get(0));
    }
    return e.getClass().getSimpleName() + ": " + line;
  }

  private static boolean isError(String line) {
    return line.matches("^[A-Za-z.]*(Error|Exception)\\b.*");
  }
}
