package org.exportpipeline.harness;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A bounded pool of native objects that serve one call at a time (an OpenVINO infer request, an
 * ExecuTorch Module, a DJL Predictor). Objects are created on demand up to {@code max}, so a pool
 * costs only as many as calls ever overlapped; a caller beyond that waits for one to come back, up to
 * a bounded time, instead of failing. Thread-safe.
 */
public final class Pool<T> {
  /** Creates one pooled object; may throw what the runtime throws. */
  public interface Factory<T> {
    T create() throws Exception;
  }

  /** What a call does with the object it borrowed. */
  public interface Use<T, R> {
    R apply(T object) throws Exception;
  }

  /** How long a caller waits for a free object before giving up. */
  public static final long WAIT_SECONDS = 600;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition returned = lock.newCondition();
  private final Deque<T> idle = new ArrayDeque<>();
  private final List<T> all = new ArrayList<>();
  private int reserved; // objects created or being created
  private final String what;
  private final int max;
  private final Factory<T> factory;

  public Pool(String what, int max, Factory<T> factory) {
    if (max < 1) {
      throw new IllegalArgumentException("a pool of " + what + " needs at least one, got " + max);
    }
    this.what = what;
    this.max = max;
    this.factory = factory;
  }

  /** Default size: one object per core, the most calls that can usefully run at once. */
  public static int defaultSize() {
    return Runtime.getRuntime().availableProcessors();
  }

  public int max() {
    return max;
  }

  /** How many objects exist or are being created (at most max). */
  public int size() {
    lock.lock();
    try {
      return reserved;
    } finally {
      lock.unlock();
    }
  }

  /** Borrows an object (creating one while fewer than max exist), applies use, and gives it back. */
  public <R> R with(Use<T, R> use) throws Exception {
    T object = borrow();
    try {
      return use.apply(object);
    } finally {
      lock.lock();
      try {
        idle.push(object);
        returned.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  private T borrow() throws Exception {
    lock.lock();
    try {
      long left = TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
      while (idle.isEmpty() && reserved >= max) {
        if (left <= 0) {
          throw new IllegalStateException("all " + max + " " + what + " stayed busy for " + WAIT_SECONDS + " s: raise the pool size or call less often");
        }
        left = returned.awaitNanos(left);
      }
      if (!idle.isEmpty()) {
        return idle.pop();
      }
      reserved++; // creation (a native load) runs outside the lock
    } finally {
      lock.unlock();
    }
    T created = null;
    try {
      created = factory.create();
      return created;
    } finally {
      lock.lock();
      try {
        if (created == null) {
          reserved--;
          returned.signal();
        } else {
          all.add(created);
        }
      } finally {
        lock.unlock();
      }
    }
  }

  /** Frees every object; call only when no call is in flight (CallGate.close waits for them). */
  public void close(Consumer<T> free) {
    lock.lock();
    try {
      all.forEach(free);
      all.clear();
      reserved = 0;
      idle.clear();
    } finally {
      lock.unlock();
    }
  }
}
