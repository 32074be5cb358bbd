package org.exportpipeline.harness;

import java.util.Optional;

/** Settings that point a runner at native pieces of its own (another runtime version's): a system property, else an environment variable. Thread-safe (stateless). */
public final class NativeLocations {
  private NativeLocations() {}

  /** A system property, else an environment variable (a deployment image sets either), else empty. */
  public static Optional<String> setting(String property, String env) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      value = System.getenv(env);
    }
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
  }
}
