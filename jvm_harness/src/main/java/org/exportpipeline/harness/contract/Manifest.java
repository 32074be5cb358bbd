package org.exportpipeline.harness.contract;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The Java reading of artifacts/MODEL/manifest.json (docs/manifest.md), validated against the schema the
 * Python reader loads ({@link ManifestSchema}) before any field is used. Every file it hands out (golden
 * tensors, format folders, a format's main file) has been checked by {@link ArtifactFiles} first.
 * Thread-safe: nothing changes after read().
 */
public final class Manifest {
  public static final int SCHEMA_VERSION = ManifestSchema.VERSION;
  public static final String FILE = "manifest.json";
  private static final long MAX_BYTES = ManifestSchema.MAX_BYTES;
  private static final TypeAdapter<JsonElement> TREE = new Gson().getAdapter(JsonElement.class);

  private final Path modelDir;
  private final JsonObject json;
  private final String sha256;
  private final ArtifactFiles files;

  private Manifest(Path modelDir, JsonObject json, String sha256) throws ContractException {
    this.modelDir = modelDir;
    this.json = json;
    this.sha256 = sha256;
    this.files = new ArtifactFiles(modelDir);
  }

  /** Reads the manifest of a model folder; pinnedSha256 (or null) is the digest it must have. */
  public static Manifest read(Path modelDir, String pinnedSha256) throws ContractException {
    Path file = modelDir.resolve(FILE);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new ContractException(file + " not found (or not a regular file): pass a folder written by `python -m exporters export MODEL`");
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      bytes = in.readNBytes(Math.toIntExact(MAX_BYTES + 1));
    } catch (IOException e) {
      throw new ContractException(file + " could not be read (" + e.getMessage() + "): check its permissions");
    }
    if (bytes.length > MAX_BYTES) {
      throw new ContractException(file + " is larger than " + (MAX_BYTES >> 20) + " MiB, so it is no manifest: re-export the model");
    }
    String digest = ArtifactFiles.hex(ArtifactFiles.sha256().digest(bytes));
    if (pinnedSha256 != null && !pinnedSha256.equalsIgnoreCase(digest)) {
      throw new ContractException(file + " has sha256 " + digest + ", not the pinned " + pinnedSha256
          + ": the manifest was replaced; re-export or pin the new digest");
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    JsonObject json = parse(file, text);
    Manifest manifest = new Manifest(modelDir, json, digest);
    int schema = manifest.field("schema_version", () -> json.get("schema_version").getAsInt());
    if (schema != SCHEMA_VERSION) {
      throw new ContractException(file + " has schema " + schema + ", expected " + SCHEMA_VERSION + ": re-export with this version of the exporters");
    }
    ManifestSchema.validate(file, text);
    manifest.inputSpecs(); // what the schema cannot say, refused at read as exporters/contract/manifest.py does
    return manifest;
  }

  /**
   * Standard JSON only: gson's default leniency would take NaN, Infinity, comments or unquoted words that the
   * schema validator then cannot read, and that the Python reader refuses too.
   */
  private static JsonObject parse(Path file, String text) throws ContractException {
    JsonElement tree;
    boolean trailing;
    try (JsonReader reader = new JsonReader(new StringReader(text))) {
      reader.setStrictness(Strictness.STRICT);
      tree = TREE.read(reader);
      trailing = reader.peek() != JsonToken.END_DOCUMENT;
    } catch (IOException | RuntimeException e) {
      String why = Messages.firstLine(e.getMessage()).replace(
          "Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "a non-standard token (NaN, Infinity, a bare word)");
      throw new ContractException(file + " is not valid JSON (" + why + "): re-export the model");
    }
    if (trailing) {
      throw new ContractException(file + " is not valid JSON (more text after the top-level value): re-export the model");
    }
    if (tree == null || !tree.isJsonObject()) {
      throw new ContractException(file + " holds no JSON object: the file is damaged; re-export the model");
    }
    return tree.getAsJsonObject();
  }

  public Path modelDir() {
    return modelDir;
  }

  /** sha256 of the manifest's bytes as read: what `SelfCheck --manifest-sha256` pins. */
  public String sha256() {
    return sha256;
  }

  public String model() throws ContractException {
    return field("model", () -> json.get("model").getAsString());
  }

  public List<String> inputNames() throws ContractException {
    return names("inputs");
  }

  public List<String> outputNames() throws ContractException {
    return names("outputs");
  }

  /**
   * An input's declared dtype (numpy name); per axis the allowed sizes ([min, max], equal when static) and the
   * dim's name (null when static: axes of one name must agree across inputs); and its valid values, or null.
   */
  public record InputSpec(String name, String dtype, long[][] bounds, String[] dims, Values values) {
    /** An integer input's valid values, both inclusive (manifest inputs[].values), and where they came from (or null). */
    public record Values(long min, long max, String from) {}
  }

  /** The declared inputs in call order, dynamic dims resolved to their bounds from `dims`. */
  public List<InputSpec> inputSpecs() throws ContractException {
    List<InputSpec> specs = field("inputs", this::readInputSpecs);
    Path file = modelDir.resolve(FILE);
    for (InputSpec spec : specs) {
      for (int axis = 0; axis < spec.bounds().length; axis++) {
        if (spec.bounds()[axis] == null) {
          throw new ContractException(file + ": " + spec.name() + "'s dim '" + spec.dims()[axis] + "' has no bounds in dims: re-export the model");
        }
        if (spec.dims()[axis] != null && dataDims().contains(spec.dims()[axis])) {
          throw new ContractException(file + ": input " + spec.name() + "'s dim '" + spec.dims()[axis]
              + "' is decided by the model's data, which no input's size can be: re-export the model");
        }
      }
      InputSpec.Values values = spec.values();
      if (values != null && !spec.dtype().startsWith("int") && !spec.dtype().startsWith("uint")) {
        throw new ContractException(file + ": input " + spec.name() + " is " + spec.dtype()
            + " but declares values: only integer inputs take a value range; re-export the model");
      }
      if (values != null && values.min() > values.max()) {
        throw new ContractException(file + ": input " + spec.name() + " declares values " + values.min() + ".." + values.max()
            + ", an empty range: re-export the model");
      }
    }
    return specs;
  }

  private List<InputSpec> readInputSpecs() {
    JsonObject dims = json.has("dims") ? json.getAsJsonObject("dims") : new JsonObject();
    List<InputSpec> specs = new ArrayList<>();
    for (JsonElement element : json.getAsJsonArray("inputs")) {
      JsonObject io = element.getAsJsonObject();
      JsonArray shape = io.getAsJsonArray("shape");
      long[][] bounds = new long[shape.size()][];
      String[] names = new String[shape.size()];
      for (int axis = 0; axis < shape.size(); axis++) {
        JsonPrimitive dim = shape.get(axis).getAsJsonPrimitive();
        if (dim.isNumber()) {
          bounds[axis] = new long[] {dim.getAsLong(), dim.getAsLong()};
        } else {
          names[axis] = dim.getAsString();
          JsonObject range = dims.getAsJsonObject(names[axis]);
          // null: no bounds in dims, refused by inputSpecs in the Python reader's words
          bounds[axis] = range == null ? null : new long[] {range.get("min").getAsLong(), range.get("max").getAsLong()};
        }
      }
      InputSpec.Values values = null;
      if (io.has("values") && !io.get("values").isJsonNull()) {
        JsonObject range = io.getAsJsonObject("values");
        JsonElement from = range.get("from");
        values = new InputSpec.Values(range.get("min").getAsLong(), range.get("max").getAsLong(),
            from == null || from.isJsonNull() ? null : from.getAsString());
      }
      specs.add(new InputSpec(io.get("name").getAsString(), io.get("dtype").getAsString(), bounds, names, values));
    }
    return specs;
  }

  private List<String> names(String section) throws ContractException {
    return field(section, () -> {
      List<String> names = new ArrayList<>();
      json.getAsJsonArray(section).forEach(io -> names.add(io.getAsJsonObject().get("name").getAsString()));
      return names;
    });
  }

  /** True when the format's files were written: status ok, or problems the exporter reported (answers decide). */
  public boolean exported(String format) throws ContractException {
    return field("formats." + format + ".status", () -> {
      JsonObject entry = json.getAsJsonObject("formats").getAsJsonObject(format);
      return entry != null && ManifestSchema.VERIFIABLE.contains(entry.get("status").getAsString());
    });
  }

  /** The formats the manifest records, in its order, exported or not. */
  public List<String> formatNames() throws ContractException {
    return field("formats", () -> new ArrayList<>(json.getAsJsonObject("formats").keySet()));
  }

  /**
   * What the format's files need from a runtime under key (formats.FORMAT.needs, read from the files at
   * export): one value for a scalar, each element of a list, none when the manifest records none (an
   * older manifest, or a format without needs). Runners check it before their runtime opens a file.
   */
  public List<String> need(String format, String key) throws ContractException {
    return field("formats." + format + ".needs." + key, () -> {
      JsonObject needs = json.getAsJsonObject("formats").getAsJsonObject(format).getAsJsonObject("needs");
      JsonElement value = needs == null ? null : needs.get(key);
      List<String> values = new ArrayList<>();
      if (value != null && value.isJsonArray()) {
        value.getAsJsonArray().forEach(element -> values.add(element.getAsString()));
      } else if (value != null && !value.isJsonNull()) {
        values.add(value.getAsString());
      }
      return values;
    });
  }

  public Path formatDir(String format) {
    return modelDir.resolve(format);
  }

  /**
   * Checks every file of the format against the manifest, and that its main file is one of them: call
   * before a runtime opens the folder.
   */
  public void verifyFormat(String format) throws ContractException {
    Map<String, ArtifactFiles.Entry> entries = formatFiles(format);
    if (entries.isEmpty()) {
      throw new ContractException("manifest.json: formats." + format + ".files is empty, so nothing can be checked: re-export the model");
    }
    for (ArtifactFiles.Entry entry : entries.values()) {
      if (!entry.path().startsWith(format + "/")) {
        throw new ContractException("manifest.json: formats." + format + ".files lists " + entry.path() + ", outside the " + format
            + "/ folder: re-export the model");
      }
      files.verify(entry);
    }
    main(format);
  }

  private Map<String, ArtifactFiles.Entry> formatFiles(String format) throws ContractException {
    String where = "formats." + format + ".files";
    return ArtifactFiles.entries(field(where, () -> json.getAsJsonObject("formats").getAsJsonObject(format).getAsJsonArray("files")), where);
  }

  /**
   * The file a runtime opens, relative to the format's folder (formats.FORMAT.main, from the exporter's
   * format registry); refused unless it is one of the format's files, which {@link #verifyFormat} checks.
   */
  public String main(String format) throws ContractException {
    String main = field("formats." + format + ".main", () -> json.getAsJsonObject("formats").getAsJsonObject(format).get("main").getAsString());
    if (!formatFiles(format).containsKey(format + "/" + main)) {
      throw new ContractException("manifest.json: formats." + format + ".main '" + main + "' is not one of formats." + format + ".files: re-export the model");
    }
    return main;
  }

  /**
   * What the runtime must be told when it opens the main file (formats.FORMAT.settings, from the exporter's
   * format registry: OpenVINO's CPU compile properties, AOTI's environment), in the manifest's order.
   * The schema admits only the names it lists.
   */
  public Map<String, String> settings(String format) throws ContractException {
    return field("formats." + format + ".settings", () -> {
      Map<String, String> settings = new LinkedHashMap<>();
      json.getAsJsonObject("formats").getAsJsonObject(format).getAsJsonObject("settings").entrySet()
          .forEach(e -> settings.put(e.getKey(), e.getValue().getAsString()));
      return settings;
    });
  }

  /**
   * A golden case: named inputs, the eager outputs, the tensors parity is judged against, and where it sits in
   * the box ("seq=max: batch=1, seq=128", as exporters.contract.manifest.case_where words it).
   */
  public record GoldenCase(String name, Map<String, Tensor> inputs, Map<String, Tensor> outputs, Map<String, Tensor> reference,
      String where) {}

  private static String where(JsonObject entry) {
    String at = entry.has("at") ? entry.get("at").getAsString() : "";
    List<String> dims = new ArrayList<>();
    if (entry.has("dims") && entry.get("dims").isJsonObject()) {
      entry.getAsJsonObject("dims").entrySet().forEach(d -> dims.add(d.getKey() + "=" + d.getValue().getAsString()));
    }
    return dims.isEmpty() ? at : at + ": " + String.join(", ", dims);
  }

  /** Every golden case, each file checked (path, size, sha256) before it is parsed. */
  public List<GoldenCase> goldenCases() throws ContractException {
    Map<String, ArtifactFiles.Entry> entries = ArtifactFiles.entries(
        field("golden.files", () -> json.getAsJsonObject("golden").getAsJsonArray("files")), "golden.files");
    List<JsonObject> listed = field("golden.cases", () -> {
      List<JsonObject> cases = new ArrayList<>();
      json.getAsJsonObject("golden").getAsJsonArray("cases").forEach(c -> cases.add(c.getAsJsonObject()));
      return cases;
    });
    if (listed.isEmpty()) {
      throw new ContractException("manifest.json: golden.cases is empty: re-export the model");
    }
    List<GoldenCase> cases = new ArrayList<>();
    for (JsonObject entry : listed) {
      String name = field("golden.cases[].name", () -> entry.get("name").getAsString());
      Map<String, Tensor> outputs = tensors(entry, "outputs", name, entries);
      Map<String, Tensor> reference = entry.has("reference") ? tensors(entry, "reference", name, entries) : outputs;
      cases.add(new GoldenCase(name, tensors(entry, "inputs", name, entries), outputs, reference,
          field("golden.cases[].at", () -> where(entry))));
    }
    for (String output : outputNames()) {
      for (GoldenCase goldenCase : cases) {
        if (!goldenCase.reference().containsKey(output)) {
          throw new ContractException("manifest.json: golden case " + goldenCase.name() + " has no reference for output " + output + ": re-export the model");
        }
      }
    }
    // A golden input of another dtype or shape than declared is a broken contract (exit 2), as in Python: not a runner's failed verdict.
    InputCheck declared = new InputCheck(this);
    for (GoldenCase goldenCase : cases) {
      Optional<String> problem = declared.problem(goldenCase.inputs());
      if (problem.isPresent()) {
        throw new ContractException("manifest.json: golden " + goldenCase.name() + " " + problem.get() + ": re-export the model");
      }
    }
    return cases;
  }

  /**
   * What a check does before a runtime opens a file, in the order SelfCheck and exporters.contract.checked_model
   * share: every file of each format checked ({@link #verifyFormat}), then the golden cases read and checked.
   */
  public List<GoldenCase> checked(List<String> formats) throws ContractException {
    for (String format : formats) {
      verifyFormat(format);
    }
    return goldenCases();
  }

  private Map<String, Tensor> tensors(JsonObject goldenCase, String role, String caseName, Map<String, ArtifactFiles.Entry> entries)
      throws ContractException {
    String where = "golden case " + caseName + " " + role;
    Map<String, String> paths = field(where, () -> {
      Map<String, String> named = new LinkedHashMap<>();
      goldenCase.getAsJsonObject(role).entrySet().forEach(e -> named.put(e.getKey(), e.getValue().getAsString()));
      return named;
    });
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, String> path : paths.entrySet()) {
      ArtifactFiles.Entry entry = entries.get(path.getValue());
      if (entry == null) {
        throw new ContractException("manifest.json: " + where + " names " + path.getValue() + ", which golden.files does not list: re-export the model");
      }
      tensors.put(path.getKey(), Npy.parse(files.read(entry), modelDir + "/" + entry.path(), path.getKey()));
    }
    return tensors;
  }

  /**
   * The model's text ends (tokenizer, postprocess, text cases), or empty for a model that takes tensors only.
   * The tokenizer and the case file are checked (path, size, sha256) before they are read.
   */
  public Optional<TextContract> text() throws ContractException {
    if (!json.has("text")) {
      return Optional.empty();
    }
    JsonObject text = field("text", () -> json.getAsJsonObject("text"));
    Map<String, ArtifactFiles.Entry> entries = ArtifactFiles.entries(field("text.files", () -> text.getAsJsonArray("files")), "text.files");
    byte[] tokenizer = files.read(textFile(entries, field("text.tokenizer.file", () -> text.getAsJsonObject("tokenizer").get("file").getAsString())));
    String casesPath = field("text.cases", () -> text.get("cases").getAsString());
    byte[] cases = files.read(textFile(entries, casesPath));
    JsonObject casesJson = parse(modelDir.resolve(casesPath), new String(cases, StandardCharsets.UTF_8));
    try {
      return Optional.of(TextContract.parse(text, tokenizer, casesJson));
    } catch (RuntimeException e) {
      throw new ContractException(modelDir.resolve(FILE) + ": the text section or " + casesPath + " is malformed (" + e.getClass().getSimpleName()
          + "): re-export the model");
    }
  }

  private static ArtifactFiles.Entry textFile(Map<String, ArtifactFiles.Entry> entries, String path) throws ContractException {
    ArtifactFiles.Entry entry = entries.get(path);
    if (entry == null) {
      throw new ContractException("manifest.json: text file " + path + " is not listed in text.files: re-export the model");
    }
    return entry;
  }

  /** The parity rule of every output: the manifest's top-level "parity" section, with the outputs' data axes. */
  public Parity.Spec parity() throws ContractException {
    JsonObject section = field("parity", () -> json.getAsJsonObject("parity"));
    return Parity.Spec.fromJson(section, outputNames()).withDataAxes(dataAxes());
  }

  /**
   * Per output, the axes whose size the model's data decides (a dim that `dims` marks "decided_by": "data", such
   * as a detector's detections) and their dim names: a service reads how many rows came back, up to the dim's max.
   */
  public Map<String, Map<Integer, String>> dataAxes() throws ContractException {
    Set<String> decided = dataDims();
    return field("outputs", () -> {
      Map<String, Map<Integer, String>> axes = new LinkedHashMap<>();
      for (JsonElement element : json.getAsJsonArray("outputs")) {
        JsonObject io = element.getAsJsonObject();
        JsonArray shape = io.getAsJsonArray("shape");
        for (int axis = 0; axis < shape.size(); axis++) {
          JsonPrimitive dim = shape.get(axis).getAsJsonPrimitive();
          if (dim.isString() && decided.contains(dim.getAsString())) {
            axes.computeIfAbsent(io.get("name").getAsString(), name -> new LinkedHashMap<>()).put(axis, dim.getAsString());
          }
        }
      }
      return axes;
    });
  }

  /** A named dim's declared max (dims.NAME.max). */
  public long dimMax(String name) throws ContractException {
    return field("dims." + name + ".max", () -> json.getAsJsonObject("dims").getAsJsonObject(name).get("max").getAsLong());
  }

  /** The names of the dims the data decides (none in a manifest older than the field). */
  private Set<String> dataDims() throws ContractException {
    return field("dims", () -> {
      Set<String> names = new HashSet<>();
      JsonObject dims = json.has("dims") ? json.getAsJsonObject("dims") : new JsonObject();
      dims.entrySet().forEach(dim -> {
        JsonElement decidedBy = dim.getValue().getAsJsonObject().get("decided_by");
        if (decidedBy != null && "data".equals(decidedBy.getAsString())) {
          names.add(dim.getKey());
        }
      });
      return names;
    });
  }

  /**
   * The operator libraries the format's program calls beyond its runtime's own (formats.FORMAT.needs.operator_libraries,
   * read from the files at export): library name to its ops, e.g. torchvision to [nms, roi_align]; empty when none.
   */
  public Map<String, List<String>> operatorLibraries(String format) throws ContractException {
    return field("formats." + format + ".needs.operator_libraries", () -> {
      JsonObject needs = json.getAsJsonObject("formats").getAsJsonObject(format).getAsJsonObject("needs");
      Map<String, List<String>> libraries = new TreeMap<>();
      if (needs != null && needs.has("operator_libraries")) {
        for (Map.Entry<String, JsonElement> library : needs.getAsJsonObject("operator_libraries").entrySet()) {
          List<String> ops = new ArrayList<>();
          library.getValue().getAsJsonArray().forEach(op -> ops.add(op.getAsString()));
          libraries.put(library.getKey(), ops);
        }
      }
      return libraries;
    });
  }

  /** A JSON accessor whose missing (gson answers null) or mistyped field becomes one line naming the field. */
  private <T> T field(String name, JsonGetter<T> getter) throws ContractException {
    T value;
    try {
      value = getter.get();
    } catch (RuntimeException e) {
      value = null;
    }
    if (value == null) {
      throw new ContractException(modelDir.resolve(FILE) + ": field " + name + " is missing or malformed: re-export the model");
    }
    return value;
  }

  @FunctionalInterface
  private interface JsonGetter<T> {
    T get();
  }
}
