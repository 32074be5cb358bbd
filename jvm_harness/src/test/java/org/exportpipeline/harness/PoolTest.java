package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PoolTest {

  @Test
  void sixCallersShareTwoObjectsAndWaitInsteadOfFailing() throws Exception {
    AtomicInteger created = new AtomicInteger();
    AtomicInteger inUse = new AtomicInteger();
    AtomicInteger mostInUse = new AtomicInteger();
    Pool<Integer> pool = new Pool<>("objects", 2, created::incrementAndGet);
    List<Thread> threads = new ArrayList<>();
    AtomicInteger served = new AtomicInteger();
    for (int i = 0; i < 6; i++) {
      Thread thread = new Thread(() -> {
        for (int k = 0; k < 20; k++) {
          try {
            pool.with(object -> {
              mostInUse.accumulateAndGet(inUse.incrementAndGet(), Math::max);
              Thread.sleep(1);
              inUse.decrementAndGet();
              return served.incrementAndGet();
            });
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
      });
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertEquals(120, served.get());
    assertEquals(2, created.get());
    assertEquals(2, mostInUse.get());
    assertEquals(2, pool.size());
    List<Integer> freed = new ArrayList<>();
    pool.close(freed::add);
    assertEquals(List.of(1, 2), freed.stream().sorted().toList());
  }

  @Test
  void aFailedCreationFreesItsSlot() throws Exception {
    Pool<Integer> pool = new Pool<>("objects", 1, () -> {
      throw new IllegalStateException("no native memory");
    });
    assertEquals("no native memory", assertThrows(IllegalStateException.class, () -> pool.with(o -> o)).getMessage());
    assertEquals(0, pool.size());
    assertThrows(IllegalArgumentException.class, () -> new Pool<>("objects", 0, () -> 1));
  }
}
