package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Temporary folders of a JVM that dies without closing them (SIGKILL) are removed by the next folder made;
 * a live owner's folder, in another JVM or this one, is kept.
 */
class TempFolderTest {
  private static final String PREFIX = "unpack-";

  @TempDir
  Path root;

  /** A JVM that makes a folder under args[0] (named args[1]..., else unpack-...), prints its path and waits to be killed. */
  public static final class Owner {
    public static void main(String[] args) throws Exception {
      TempFolder folder = TempFolder.create(Path.of(args[0]), args.length > 1 ? args[1] : PREFIX);
      Files.writeString(folder.path().resolve("model.so"), "unpacked");
      System.out.println(folder.path());
      Thread.sleep(120_000);
    }
  }

  @Test
  void aFolderWhoseOwnerWasKilledIsRemovedByTheNextAndALiveOwnersIsKept() throws Exception {
    Process killed = owner();
    Process alive = owner();
    try {
      Path abandoned = pathPrinted(killed);
      Path held = pathPrinted(alive);
      killed.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
      assertTrue(killed.waitFor(30, TimeUnit.SECONDS));
      assertTrue(Files.isRegularFile(abandoned.resolve("model.so")), "the kill itself removed " + abandoned);

      try (TempFolder next = TempFolder.create(root, PREFIX)) {
        assertFalse(Files.exists(abandoned), "the killed JVM's folder was kept: " + abandoned);
        assertTrue(Files.isRegularFile(held.resolve("model.so")), "a live JVM's folder was removed: " + held);
        try (TempFolder sibling = TempFolder.create(root, PREFIX)) {
          assertTrue(Files.isDirectory(next.path()), "this JVM's own open folder was removed");
          assertEquals(0, TempFolder.removeAbandoned(root, PREFIX));
        }
      }
    } finally {
      killed.destroyForcibly();
      alive.destroyForcibly();
      alive.waitFor(30, TimeUnit.SECONDS);
    }
    assertEquals(1, TempFolder.removeAbandoned(root, PREFIX)); // the second owner, now killed too
    try (var left = Files.list(root)) {
      assertEquals(0, left.count(), "folders left under " + root);
    }
  }

  @Test
  void closeRemovesTheFolderOnce() throws Exception {
    TempFolder folder = TempFolder.create(root, PREFIX);
    Files.writeString(folder.path().resolve("model.so"), "unpacked");
    folder.close();
    folder.close();
    assertFalse(Files.exists(folder.path()));
  }

  @Test
  void aFolderMovedAwayIsNoLongerRemovedOrSwept() throws Exception {
    TempFolder folder = TempFolder.create(root, PREFIX);
    Files.writeString(folder.path().resolve("model.so"), "unpacked");
    Path target = root.resolve("kept");
    folder.moveTo(target);
    folder.close();
    assertEquals(0, TempFolder.removeAbandoned(root, PREFIX));
    assertFalse(Files.exists(folder.path()));
    try (var left = Files.list(target)) {
      assertEquals(List.of(target.resolve("model.so")), left.toList()); // without the lock file
    }
  }

  private Process owner() throws Exception {
    return ChildJvm.of(Owner.class, root.toString()).redirectErrorStream(true).start();
  }

  /** The path a started {@link Owner} printed: its folder exists from then on. */
  static Path pathPrinted(Process process) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertTrue(line != null && line.startsWith("/"), "the owner JVM printed " + line);
    return Path.of(line);
  }
}
