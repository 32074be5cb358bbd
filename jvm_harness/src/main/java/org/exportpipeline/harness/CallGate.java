package org.exportpipeline.harness;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A runner's life cycle as its callers see it: opened once, called from any number of threads, closed
 * once after the calls in flight have returned (a native session freed under a running call crashes
 * the process). Thread-safe.
 */
public final class CallGate {
  /** What a gated call does; may throw what the runtime throws. */
  public interface Call<T> {
    T run() throws Exception;
  }

  private enum State { NEW, OPEN, CLOSED }

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final String runtime;
  private State state = State.NEW;

  public CallGate(String runtime) {
    this.runtime = runtime;
  }

  /** Runs the runner's open once; a second open is refused rather than leaking the first session. */
  public void open(Call<?> open) throws Exception {
    lock.writeLock().lock();
    try {
      if (state != State.NEW) {
        throw new IllegalStateException(runtime + " runner is already " + (state == State.OPEN ? "open" : "closed")
            + ": open a new runner for another artifact");
      }
      open.run();
      state = State.OPEN;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Runs one call while the runner stays open; concurrent calls proceed together. */
  public <T> T call(Call<T> call) throws Exception {
    lock.readLock().lock();
    try {
      if (state != State.OPEN) {
        throw new IllegalStateException(runtime + " runner is " + (state == State.NEW ? "not open: call open() before run()" : "closed"));
      }
      return call.run();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Waits for the calls in flight, then releases the runtime once; later closes do nothing. */
  public void close(Call<?> release) throws Exception {
    lock.writeLock().lock();
    try {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      release.run(); // also after a failed open: frees what it created before failing
    } finally {
      lock.writeLock().unlock();
    }
  }
}
