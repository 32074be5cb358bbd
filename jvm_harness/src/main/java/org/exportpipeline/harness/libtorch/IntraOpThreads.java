package org.exportpipeline.harness.libtorch;

import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.pytorch.global.torch;
import java.util.concurrent.Callable;
import java.util.function.IntSupplier;

/**
 * How many intra-op threads each libtorch call may use. Every call sets it on its own thread before
 * running: at::set_num_threads writes the process-wide value and the calling thread's OpenMP setting,
 * which a thread otherwise keeps from its first call. Without a count from threads(n), a call that
 * overlaps another gets one thread, since N callers each spreading over every core were 8x slower
 * than one thread each (encoder, 8 callers); a lone call gets libtorch's default. Thread-safe.
 */
final class IntraOpThreads {
  private final AtomicInteger inFlight = new AtomicInteger();
  private final IntSupplier requested; // the runner's threads(n), fixed once it is open; 0: decide per call as above

  IntraOpThreads(IntSupplier requested) {
    this.requested = requested;
  }

  <T> T call(Callable<T> call) throws Exception {
    int overlapping = inFlight.incrementAndGet();
    try {
      int asked = requested.getAsInt();
      int count = asked > 0 ? asked : overlapping > 1 ? 1 : torch.intraop_default_num_threads();
      if (torch.get_num_threads() != count) {
        torch.set_num_threads(count);
      }
      return call.call();
    } finally {
      inFlight.decrementAndGet();
    }
  }

  /** What threads(n) reports for both libtorch runners. */
  static String describe(int count) {
    return "at::set_num_threads(" + count + ") on each calling thread before every call (libtorch's setting is process-wide)";
  }
}
