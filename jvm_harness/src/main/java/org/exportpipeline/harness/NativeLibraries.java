package org.exportpipeline.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Native libraries that travel as jars (jvm-harness-ENGINE-natives-VERSION-linux-x86_64.jar, built by
 * jvm_harness/natives.py): found on the classpath, extracted at first use into a cache folder named after
 * the jar's index (so two versions never share one), every file's sha256 checked against that index, on
 * extraction and again at each start. The cache is ~/.cache/exportpipeline/natives, or the setting
 * harness.natives.cache (HARNESS_NATIVES_CACHE). Extraction writes a temporary folder and renames it into
 * place, so processes starting together never load a half-written library; one a killed JVM left half-written is
 * removed by the next extraction ({@link TempFolder}). Thread-safe (stateless).
 */
public final class NativeLibraries {
  static final String RESOURCES = "org/exportpipeline/harness/natives/";
  static final String PLATFORM = "linux-x86_64";
  private static final String INDEX = "files.sha256";

  private NativeLibraries() {}

  /** One file of a natives jar, as its index lists it. */
  private record Entry(String sha256, long bytes, String name) {}

  /**
   * The folder holding the engine's native libraries from its natives jar, extracted and checked; empty
   * when no natives jar for the engine is on the classpath.
   */
  public static Optional<Path> folder(String engine) throws IOException {
    String prefix = RESOURCES + engine + "/" + PLATFORM + "/";
    byte[] index;
    try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(prefix + INDEX)) {
      if (in == null) {
        return Optional.empty();
      }
      index = in.readAllBytes();
    }
    List<Entry> entries = parse(index, prefix);
    Path root = NativeLocations.setting("harness.natives.cache", "HARNESS_NATIVES_CACHE").map(Path::of)
        .orElseGet(() -> Path.of(System.getProperty("user.home"), ".cache", "exportpipeline", "natives"));
    Path folder = root.resolve(engine + "-" + hex(sha256().digest(index)).substring(0, 16));
    if (!Files.isDirectory(folder)) {
      extract(prefix, entries, root, folder);
    }
    for (Entry entry : entries) { // every start: a library changed in the cache is never loaded
      check(folder.resolve(entry.name()), entry);
    }
    return Optional.of(folder);
  }

  private static void extract(String prefix, List<Entry> entries, Path root, Path folder) throws IOException {
    Files.createDirectories(root);
    // A TempFolder: an extraction cut short by a killed JVM is removed by the next one, not left in the cache.
    try (TempFolder partial = TempFolder.create(root, folder.getFileName() + ".partial-")) {
      for (Entry entry : entries) {
        Path file = partial.path().resolve(entry.name());
        try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(prefix + entry.name())) {
          if (in == null) {
            throw new IOException("natives jar index lists " + entry.name() + ", which the jar does not hold: rebuild it (make jvm)");
          }
          Files.copy(in, file);
        }
        check(file, entry);
      }
      try {
        partial.moveTo(folder);
      } catch (IOException raced) {
        if (!Files.isDirectory(folder)) {
          throw raced;
        } // else another thread or process extracted the same jar first: its folder is checked like ours
      }
    }
  }

  private static void check(Path file, Entry entry) throws IOException {
    if (!Files.isRegularFile(file) || Files.size(file) != entry.bytes()) {
      throw new IOException(file + " is missing or not " + entry.bytes() + " bytes as its natives jar lists it: delete "
          + file.getParent() + " (it is extracted again)");
    }
    MessageDigest digest = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    if (!hex(digest.digest()).equals(entry.sha256())) {
      throw new IOException(file + " does not have the sha256 its natives jar lists: delete " + file.getParent()
          + " (it is extracted again)");
    }
  }

  private static List<Entry> parse(byte[] index, String prefix) throws IOException {
    List<Entry> entries = new ArrayList<>();
    for (String line : new String(index, StandardCharsets.UTF_8).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      String[] fields = line.split(" ", 3);
      if (fields.length != 3 || !fields[2].matches("[A-Za-z0-9_.+-]+")) {
        throw new IOException(prefix + INDEX + " has a malformed line '" + line + "': rebuild the natives jar (make jvm)");
      }
      entries.add(new Entry(fields[0], Long.parseLong(fields[1]), fields[2]));
    }
    return entries;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
