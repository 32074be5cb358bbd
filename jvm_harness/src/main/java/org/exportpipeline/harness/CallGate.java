package org.exportpipeline.harness;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A runner's life cycle as its callers see it: opened once, called from any number of threads, closed
 * once after the calls in flight have returned (a native session freed under a running call crashes
 * the process). Thread-safe.
 */
final class CallGate {
  /** What a gated step does; may throw what the runtime throws. */
  interface Step<T, E extends Exception> {
    T run() throws E;
  }

  private enum State { NEW, OPEN, CLOSED }

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final String runtime;
  private State state = State.NEW;

  CallGate(String runtime) {
    this.runtime = runtime;
  }

  /** Runs the runner's open once; a second open is refused rather than leaking the first session. */
  void open(Step<?, Exception> open) throws Exception {
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
  <T> T call(Step<T, ModelException> call) throws ModelException {
    lock.readLock().lock();
    try {
      if (state != State.OPEN) {
        throw state == State.NEW
            ? new ModelUnavailableException(ModelUnavailableException.Reason.NOT_OPEN, runtime + " runner is not open: call open() before run()")
            : new ModelUnavailableException(ModelUnavailableException.Reason.CLOSED, runtime + " runner is closed: the model was closed (a service shutting down); open it again to serve");
      }
      return call.run();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Waits for the calls in flight, then releases the runtime once; later closes do nothing. */
  void close(Step<?, Exception> release) throws Exception {
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
