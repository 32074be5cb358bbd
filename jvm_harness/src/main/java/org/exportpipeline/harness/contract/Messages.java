package org.exportpipeline.harness.contract;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one-line form of a message for people: a contract error shows the first line of what it wraps, a
 * runtime's failure its decisive line. Thread-safe (stateless).
 */
public final class Messages {
  private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;]*[A-Za-z]");
  /** Lines that only say where, never why. */
  private static final Pattern LOCATION = Pattern.compile(
      "^(Exception from \\S+:\\d*:?|Traceback.*|The following operation failed.*|File \".*|Exception raised from .*"
          + "|frame #\\d+.*|\\s*~*\\^*~*|Check '.*' failed at \\S+:\\d+:?)$");
  private static final Pattern ERROR_LINE = Pattern.compile("^[A-Za-z._]*(Error|Exception)\\b.*");
  /** Reasons that decide wherever they sit in the text: the first match wins. */
  private static final List<Pattern> DECISIVE = List.of(
      Pattern.compile("Not all values of .* satisfy the generated guard .*"),
      Pattern.compile("Could not guard on data-dependent expression .*"),
      Pattern.compile("Missing operator: .*"),
      Pattern.compile("Unknown builtin op: .*"),
      Pattern.compile("Cannot view a tensor with shape .*"));
  private static final int LIMIT = 500;

  private Messages() {}

  /** The first non-blank line of a message, or "(no message)". */
  public static String firstLine(String message) {
    String line = message == null ? "" : message.strip().lines().findFirst().orElse("");
    return line.isEmpty() ? "(no message)" : line;
  }

  /** The exception's class and the decisive line of its message. */
  public static String decisiveLine(Throwable e) {
    return e.getClass().getSimpleName() + ": " + decisive(e.getMessage());
  }

  /**
   * A runtime's or exporter's failure text as one bounded line that keeps its reason: OpenVINO puts its
   * source locations first and the reason last, TorchScript a traceback before its "RuntimeError: ..." line,
   * c10 a trailing "Exception raised from" trace, torch a summary before the guard or operator that decides.
   * The rule of exporters/contract/causes.py, held to the shared vectors in tests/contract_vectors/failure_lines.json.
   */
  public static String decisive(String message) {
    List<String> lines = ANSI.matcher(message == null ? "" : message).replaceAll("").strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    if (lines.isEmpty()) {
      return "(no message)";
    }
    List<String> reasons = lines.stream().filter(l -> !LOCATION.matcher(l).matches()).toList();
    if (reasons.isEmpty()) {
      reasons = lines;
    }
    String head = reasons.get(0);
    for (Pattern pattern : DECISIVE) {
      for (String line : reasons) {
        Matcher match = pattern.matcher(line);
        if (match.find()) {
          String found = match.group();
          return bounded(head.contains(found) ? found : bounded(head, 160) + " " + found, LIMIT);
        }
      }
    }
    if (lines.size() > 1 && LOCATION.matcher(lines.get(0)).matches()) {
      List<String> errors = reasons.stream().filter(l -> ERROR_LINE.matcher(l).matches()).toList();
      return bounded(errors.isEmpty() ? reasons.get(reasons.size() - 1) : errors.get(errors.size() - 1), LIMIT);
    }
    return bounded(head, LIMIT);
  }

  private static String bounded(String line, int limit) {
    return line.length() <= limit ? line : line.substring(0, limit - 3) + "...";
  }
}
