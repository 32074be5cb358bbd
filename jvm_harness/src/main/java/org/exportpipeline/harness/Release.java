package org.exportpipeline.harness;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A runtime's or producer's release as major.minor, read from the first "N.N" in a version text
 * ("2.13.0+cpu", "libtorch 2.13.0 (JavaCPP presets 1.5.14)", "openvino 2026.4.1-20426"): what the
 * runners' needs-checks compare. Thread-safe (immutable).
 */
public record Release(int major, int minor) implements Comparable<Release> {
  private static final Pattern FIRST = Pattern.compile("(\\d+)\\.(\\d+)");

  /** The release a version text names, or empty when it names none. */
  public static Optional<Release> of(String text) {
    Matcher m = text == null ? null : FIRST.matcher(text);
    return m != null && m.find() ? Optional.of(new Release(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)))) : Optional.empty();
  }

  /** True when this release lies in [first, last], both inclusive. */
  public boolean within(Release first, Release last) {
    return compareTo(first) >= 0 && compareTo(last) <= 0;
  }

  @Override
  public int compareTo(Release other) {
    return major != other.major ? Integer.compare(major, other.major) : Integer.compare(minor, other.minor);
  }

  @Override
  public String toString() {
    return major + "." + minor;
  }
}
