package org.exportpipeline.harness.tools;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * SelfCheck's command line, read: --json, --engine, --callers, and the folders to check, each with
 * the --manifest-sha256 given before it (args: the command line as given, for a relaunch).
 * Thread-safe (immutable).
 */
record CheckOptions(boolean json, String engine, int callers, Soak.Settings soak, List<ModelCheck.Target> targets, List<String> args) {
  static final String USAGE =
      "usage: SelfCheck [--json] [--engine ENGINE] [--callers N] [--soak SECONDS [--soak-callers N] [--soak-max-rss-slope MIB_PER_MIN]]"
          + " [--manifest-sha256 HEX] artifacts/MODEL ... (--manifest-sha256 pins the folder after it)";
  private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

  static CheckOptions parse(String[] args) throws Usage {
    boolean json = false;
    String engine = null;
    int callers = ConcurrencyCheck.DEFAULT_CALLERS;
    double soakSeconds = 0;
    int soakCallers = Soak.DEFAULT_CALLERS;
    double soakSlope = Soak.DEFAULT_MAX_RSS_SLOPE;
    String pin = null;
    List<ModelCheck.Target> targets = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--json" -> json = true;
        case "--engine", "--callers", "--manifest-sha256", "--soak", "--soak-callers", "--soak-max-rss-slope" -> {
          if (i + 1 == args.length) {
            throw new Usage(arg + " needs a value; " + USAGE);
          }
          String value = args[++i];
          if (arg.equals("--engine")) {
            engine = value;
          } else if (arg.equals("--callers")) {
            callers = callers(value);
          } else if (arg.equals("--soak-callers")) {
            soakCallers = callers(value);
          } else if (arg.equals("--soak")) {
            soakSeconds = positive(arg, value);
          } else if (arg.equals("--soak-max-rss-slope")) {
            soakSlope = positive(arg, value);
          } else if (!SHA256.matcher(value).matches()) {
            throw new Usage("--manifest-sha256 " + value + " is not a sha256 (64 hex digits): use `sha256sum MODEL/manifest.json`");
          } else {
            pin = value;
          }
        }
        default -> {
          if (arg.startsWith("--")) {
            throw new Usage("unknown option " + arg + "; " + USAGE);
          }
          targets.add(new ModelCheck.Target(Path.of(arg), pin));
          pin = null;
        }
      }
    }
    if (pin != null) {
      throw new Usage("--manifest-sha256 " + pin + " pins no folder: put it before the folder it pins");
    }
    if (targets.isEmpty()) {
      throw new Usage(USAGE);
    }
    Soak.Settings soak = soakSeconds > 0 ? new Soak.Settings(soakSeconds, soakCallers, soakSlope) : null;
    return new CheckOptions(json, engine, callers, soak, targets, List.of(args));
  }

  private static double positive(String option, String value) throws Usage {
    try {
      double number = Double.parseDouble(value);
      if (number > 0 && Double.isFinite(number)) {
        return number;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new Usage(option + " " + value + " is not a positive number");
  }

  private static int callers(String value) throws Usage {
    try {
      int callers = Integer.parseInt(value);
      if (callers >= 1) {
        return callers;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new Usage("--callers " + value + " is not a positive whole number of threads");
  }
}
