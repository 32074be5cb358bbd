package org.exportpipeline.harness;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A private temporary folder that does not outlive its process by more than one start: its owner holds
 * an OS file lock on it while it is open, close() removes it, and creating a folder first removes those
 * of the same prefix whose lock nobody holds, which the kernel released when their process died (a JVM
 * killed by SIGKILL or the OOM killer runs no shutdown hook and no close). A folder appears under its
 * name only once locked, so a sweep never takes one still being made. Thread-safe: one owner, close()
 * idempotent; the sweep keeps folders locked by this JVM.
 */
public final class TempFolder implements AutoCloseable {
  private static final String LOCK = ".owner.lock";

  private final Path path;
  private final FileChannel channel;
  private boolean closed;

  private TempFolder(Path path, FileChannel channel) {
    this.path = path;
    this.channel = channel;
  }

  /** A new folder PREFIX... under java.io.tmpdir, after removing the abandoned ones of that prefix. */
  public static TempFolder create(String prefix) throws IOException {
    return create(Path.of(System.getProperty("java.io.tmpdir")), prefix);
  }

  static TempFolder create(Path root, String prefix) throws IOException {
    removeAbandoned(root, prefix);
    Path staging = Files.createTempDirectory(root, "." + prefix); // hidden from the sweep until locked
    FileChannel channel = null;
    try {
      channel = FileChannel.open(staging.resolve(LOCK), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      channel.lock();
      Path path = root.resolve(staging.getFileName().toString().substring(1));
      Files.move(staging, path, StandardCopyOption.ATOMIC_MOVE); // the lock stays with the file
      return new TempFolder(path, channel);
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        channel.close();
      }
      deleteTree(staging);
      throw e;
    }
  }

  /** Removes the folders PREFIX... under root whose owner is gone; returns how many. */
  static int removeAbandoned(Path root, String prefix) throws IOException {
    int removed = 0;
    try (DirectoryStream<Path> folders = Files.newDirectoryStream(root, prefix + "*")) {
      for (Path folder : folders) {
        Path lockFile = folder.resolve(LOCK);
        if (!Files.isRegularFile(lockFile)) {
          continue; // not made by this class: not ours to judge
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock()) {
          if (lock != null) { // held while deleting: nobody can own it meanwhile
            deleteTree(folder);
            removed++;
          }
        } catch (OverlappingFileLockException ownedHere) {
          // a folder of this JVM's
        } catch (IOException gone) {
          // removed by another process's sweep meanwhile
        }
      }
    }
    return removed;
  }

  public Path path() {
    return path;
  }

  /**
   * Hands the folder over: renames it to TARGET (on the same file system) without its lock file, so no sweep
   * and no close() removes it. When the rename fails the folder is still this one's, and close() removes it.
   */
  public synchronized void moveTo(Path target) throws IOException {
    if (closed) {
      throw new IllegalStateException(path + " was closed");
    }
    Files.delete(path.resolve(LOCK)); // a sweep leaves a folder without a lock file alone
    Files.move(path, target, StandardCopyOption.ATOMIC_MOVE);
    closed = true;
    channel.close();
  }

  /** Removes the folder and everything in it, then lets go of its lock. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      deleteTree(path);
    } finally {
      channel.close();
    }
  }

  static void deleteTree(Path folder) throws IOException {
    if (!Files.exists(folder)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(folder)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
