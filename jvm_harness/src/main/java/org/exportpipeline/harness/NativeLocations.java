package org.exportpipeline.harness;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Optional;

/** Where runners find native pieces that do not come in jars: a setting, else beside the harness build. Thread-safe (stateless). */
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

  /** The folder holding jvm-harness.jar (target/ in a build; also target/ when run from target/classes). */
  public static Path harnessHome() {
    try {
      Path location = Path.of(NativeLocations.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return location.getParent(); // target/jvm-harness.jar and target/classes alike
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot locate the harness build: " + e.getMessage(), e);
    }
  }
}
