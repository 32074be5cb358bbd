package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The natives jars on the test classpath (make jvm builds them; the pom adds them): extracted once into a
 * versioned cache folder, also when several threads ask at once; a library changed in the cache is refused; an
 * extraction a killed JVM left half-written is removed by the next.
 */
class NativeLibrariesTest {
  @TempDir
  Path cache;

  @AfterEach
  void unset() {
    System.clearProperty("harness.natives.cache");
  }

  @Test
  void extractsOnceIntoAVersionedFolderEvenWhenThreadsAskTogether() throws Exception {
    System.setProperty("harness.natives.cache", cache.toString());
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<Optional<Path>>> asked = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      asked.add(pool.submit((Callable<Optional<Path>>) () -> NativeLibraries.folder("executorch")));
    }
    Path folder = asked.get(0).get().orElseThrow();
    for (Future<Optional<Path>> answer : asked) {
      assertEquals(folder, answer.get().orElseThrow());
    }
    pool.shutdown();
    assertTrue(folder.getFileName().toString().matches("executorch-[0-9a-f]{16}"), folder.toString());
    assertTrue(Files.isRegularFile(folder.resolve("libexecutorch_jni.so")));
    try (var left = Files.list(cache)) {
      assertEquals(List.of(folder), left.toList()); // no partial folder left behind
    }
    assertEquals(Optional.empty(), NativeLibraries.folder("no-such-engine"));
  }

  @Test
  void aLibraryChangedInTheCacheIsRefusedNamingIt() throws Exception {
    System.setProperty("harness.natives.cache", cache.toString());
    Path folder = NativeLibraries.folder("executorch").orElseThrow();
    Files.write(folder.resolve("libexecutorch_jni.so"), new byte[] {0}, StandardOpenOption.APPEND);
    IOException refused = assertThrows(IOException.class, () -> NativeLibraries.folder("executorch"));
    assertTrue(refused.getMessage().contains("libexecutorch_jni.so") && refused.getMessage().contains("delete"), refused.getMessage());
  }

  @Test
  void anExtractionAKilledJvmLeftIsRemovedByTheNext() throws Exception {
    System.setProperty("harness.natives.cache", cache.toString());
    Path folder = NativeLibraries.folder("executorch").orElseThrow();
    TempFolder.deleteTree(folder);
    Process killed = ChildJvm.of(TempFolderTest.Owner.class, cache.toString(), folder.getFileName() + ".partial-")
        .redirectErrorStream(true).start();
    try {
      Path partial = TempFolderTest.pathPrinted(killed);
      killed.destroyForcibly(); // SIGKILL mid-extraction
      assertTrue(killed.waitFor(30, TimeUnit.SECONDS));
      assertTrue(Files.isDirectory(partial), "the kill itself removed " + partial);
    } finally {
      killed.destroyForcibly();
    }
    assertEquals(folder, NativeLibraries.folder("executorch").orElseThrow());
    try (var left = Files.list(cache)) {
      assertEquals(List.of(folder), left.toList());
    }
  }
}
