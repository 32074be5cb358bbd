package org.exportpipeline.harness.libtorch;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.function.Supplier;

/**
 * The process environment as libtorch reads it (getenv), which Java cannot change itself: libc's
 * setenv through JNA. Used for the two settings AOTI reads from the environment only.
 */
final class Environment {
  private interface LibC extends Library {
    String getenv(String name);

    int setenv(String name, String value, int overwrite);

    int unsetenv(String name);
  }

  private static final LibC C = Native.load("c", LibC.class);

  private Environment() {}

  /** Sets name=value unless the process already has the variable (a deployment's own choice wins). */
  static synchronized void setDefault(String name, String value) {
    C.setenv(name, value, 0);
  }

  /** Runs action with name=value in the environment, then restores the previous value. */
  static synchronized <T> T with(String name, String value, Supplier<T> action) {
    String previous = C.getenv(name);
    C.setenv(name, value, 1);
    try {
      return action.get();
    } finally {
      if (previous == null) {
        C.unsetenv(name);
      } else {
        C.setenv(name, previous, 1);
      }
    }
  }
}
