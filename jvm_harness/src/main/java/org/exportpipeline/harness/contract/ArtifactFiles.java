package org.exportpipeline.harness.contract;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place the JVM side trusts a file named by a manifest: the path stays inside the model
 * folder (no absolute path, no "..", no symlink leading out), names a regular file, and has the
 * recorded size and sha256. Sizes are compared before reading, so /dev/zero or a huge file is
 * refused without being read into memory. Thread-safe: immutable once built.
 */
public final class ArtifactFiles {
  private static final HexFormat HEX = HexFormat.of();

  /** A file as the manifest records it. */
  public record Entry(String path, String sha256, long bytes) {}

  private final Path modelDir;
  private final Path realModelDir;

  public ArtifactFiles(Path modelDir) throws ContractException {
    this.modelDir = modelDir;
    try {
      this.realModelDir = modelDir.toRealPath();
    } catch (IOException e) {
      throw new ContractException(modelDir + " is not readable (" + e.getMessage() + "): pass a folder written by `python -m exporters export`");
    }
  }

  /** Reads a {"path", "sha256", "bytes"} object of the manifest. */
  static Entry entry(JsonElement element, String where) throws ContractException {
    try {
      JsonObject object = element.getAsJsonObject();
      Entry entry = new Entry(object.get("path").getAsString(), object.get("sha256").getAsString(), object.get("bytes").getAsLong());
      if (entry.bytes() < 0 || entry.sha256().length() != 64) {
        throw new IllegalStateException("bad size or digest");
      }
      return entry;
    } catch (RuntimeException e) {
      throw new ContractException("manifest.json: " + where + " holds a malformed file entry (needs path, sha256, bytes): re-export the model");
    }
  }

  /** Entries by path; a path listed twice is refused, since its two records could disagree. */
  static Map<String, Entry> entries(Iterable<JsonElement> elements, String where) throws ContractException {
    Map<String, Entry> byPath = new LinkedHashMap<>();
    for (JsonElement element : elements) {
      Entry entry = entry(element, where);
      if (byPath.put(entry.path(), entry) != null) {
        throw new ContractException("manifest.json: " + where + " lists " + entry.path() + " twice: re-export the model");
      }
    }
    return byPath;
  }

  /** The real path of a manifest-relative path, refused unless it is a regular file inside the model folder. */
  public Path confine(String relative) throws ContractException {
    if (relative.isEmpty() || relative.startsWith("/") || relative.contains("\\") || relative.indexOf('\0') >= 0) {
      throw refused(relative, "is not a relative path inside the model folder");
    }
    for (String part : relative.split("/", -1)) {
      if (part.equals("..")) {
        throw refused(relative, "leads out of the model folder (\"..\")");
      }
      if (part.isEmpty() || part.equals(".")) {
        throw refused(relative, "is not a plain path (empty or \".\" part)");
      }
    }
    Path real;
    try {
      real = modelDir.resolve(relative).toRealPath();
    } catch (IOException e) {
      throw refused(relative, "is missing");
    }
    if (!real.startsWith(realModelDir)) {
      throw refused(relative, "is a symlink leading out of the model folder to " + real);
    }
    if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
      throw refused(relative, "is not a regular file");
    }
    return real;
  }

  /** Checks size, then sha256 streamed from disk (model files can be large): for files a runtime opens. */
  public void verify(Entry entry) throws ContractException {
    Path real = checkedSize(entry);
    MessageDigest digest = sha256();
    long read = 0;
    byte[] block = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(real)) {
      for (int n; (n = in.read(block)) > 0 && read <= entry.bytes(); read += n) {
        digest.update(block, 0, n);
      }
    } catch (IOException e) {
      throw refused(entry.path(), "could not be read (" + e.getMessage() + ")");
    }
    check(entry, read, digest.digest());
  }

  /** Reads a file whole after the size check, and checks the sha256 of exactly the bytes returned. */
  public byte[] read(Entry entry) throws ContractException {
    Path real = checkedSize(entry);
    byte[] bytes;
    try (InputStream in = Files.newInputStream(real)) {
      bytes = in.readNBytes(Math.toIntExact(entry.bytes() + 1)); // one more reveals a file that grew
    } catch (IOException | ArithmeticException e) {
      throw refused(entry.path(), "could not be read (" + e.getMessage() + ")");
    }
    check(entry, bytes.length, sha256().digest(bytes));
    return bytes;
  }

  private Path checkedSize(Entry entry) throws ContractException {
    Path real = confine(entry.path());
    long size;
    try {
      size = Files.size(real);
    } catch (IOException e) {
      throw refused(entry.path(), "could not be read (" + e.getMessage() + ")");
    }
    if (size != entry.bytes()) {
      throw altered(entry, size + " bytes, the manifest records " + entry.bytes());
    }
    return real;
  }

  private void check(Entry entry, long read, byte[] digest) throws ContractException {
    if (read != entry.bytes()) {
      throw altered(entry, "changed size while being read");
    }
    String actual = HEX.formatHex(digest);
    if (!actual.equalsIgnoreCase(entry.sha256())) {
      throw altered(entry, "sha256 " + actual.substring(0, 12) + "... differs from the manifest's " + entry.sha256().substring(0, 12) + "...");
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  static String hex(byte[] digest) {
    return HEX.formatHex(digest);
  }

  private ContractException refused(String path, String why) {
    return new ContractException(path + " named by " + modelDir.resolve(Manifest.FILE) + " " + why + ": refusing it; re-export the model, or fix the manifest's path");
  }

  private ContractException altered(Entry entry, String why) {
    return new ContractException(modelDir + "/" + entry.path() + " is altered (" + why + "): re-export the model");
  }
}
