import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.exportpipeline.harness.GracefulShutdown;
import org.exportpipeline.harness.InvalidInputException;
import org.exportpipeline.harness.Model;
import org.exportpipeline.harness.ModelUnavailableException;
import org.exportpipeline.harness.ModelException;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.text.TextAnswers;
import org.exportpipeline.harness.text.TextModel;
import org.exportpipeline.harness.text.TextPair;

/**
 * A small JSON service over one exported model, as a JVM team writes one: one Model shared by every
 * request thread, inputs built with Model.newInput (the shape is checked before anything is
 * allocated), each failure kind mapped to its HTTP status, and SIGTERM handled in the safe order
 * (stop accepting, let calls in flight finish, close the model, exit). Runs as a single-file program:
 *
 * <pre>
 * java -cp "$(python -m jvm_harness classpath --engine onnxruntime)" jvm_harness/example/ModelService.java \
 *     artifacts/mlp onnx [RUNTIME|-] [PORT|0] [INTRA_OP_THREADS|0] [CALLS_AT_ONCE]
 * curl -s localhost:PORT/run -d '{"x": {"shape": [1, 10], "data": [0,1,2,3,4,5,6,7,8,9]}}'
 * </pre>
 *
 * Request: each input by name with its shape and its values flattened in row-major order. Answer:
 * each output the same way, with the runtime that gave it. 400: the caller's input (bad JSON, a shape
 * outside the export's box, inputs disagreeing on a shared dim, a value outside its range); 503:
 * closed or overloaded; 500: the runtime failed. Prints "listening on PORT" once it serves.
 */
public final class ModelService {
  private static final int REQUEST_THREADS = 16;
  private static final Gson GSON = new Gson();

  public static void main(String[] args) throws Exception {
    Path folder = Path.of(args[0]);
    String format = args[1];
    // One intra-op thread per call (0: the runtime's default) and 4 calls at once, unless told otherwise.
    Model.Options.Builder options = Model.Options.builder()
        .intraOpThreads(args.length > 4 ? Integer.parseInt(args[4]) : 1)
        .maxConcurrentCalls(args.length > 5 ? Integer.parseInt(args[5]) : 4);
    if (args.length > 2 && !args[2].equals("-")) {
      options.runtime(args[2]);
    }
    int port = args.length > 3 ? Integer.parseInt(args[3]) : 0;
    Model model = Model.open(folder, format, options.build()); // checks every file before the runtime opens it
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
    server.setExecutor(Executors.newFixedThreadPool(REQUEST_THREADS));
    server.createContext("/run", exchange -> answer(exchange, model));
    // A text model (its spec declared text=) also takes strings: its tokenizer and postprocess, as export proved them.
    AutoCloseable closing = model;
    if (model.manifest().text().isPresent()) {
      TextModel text = TextModel.of(model);
      server.createContext("/text", exchange -> answerText(exchange, text));
      closing = text; // closes the model after the tokenizer's calls in flight
    }
    // SIGTERM/SIGINT: stop accepting and let the exchanges in flight write their answers (up to 30 s), then close
    // the model (a call still running finishes first), then exit.
    GracefulShutdown.install(() -> server.stop(30), closing);
    server.start();
    System.out.println("listening on " + server.getAddress().getPort() + " (" + model.runtime() + " " + model.version() + ")");
  }

  /** A call's answer, or the exception that maps to its HTTP status. */
  private interface Call {
    JsonObject answer(byte[] request) throws ModelException;
  }

  private static void answer(HttpExchange exchange, Model model) throws IOException {
    respond(exchange, request -> {
      Map<String, Tensor> outputs = model.run(inputs(model, request));
      JsonObject body = new JsonObject();
      body.addProperty("runtime", model.runtime());
      JsonObject named = new JsonObject();
      outputs.forEach((name, tensor) -> named.add(name, json(tensor)));
      body.add("outputs", named);
      return body;
    });
  }

  /** {"texts": [...]} (or {"pairs": [[first, second], ...]}) in; each text's vector and, for a classifier, its labels out. */
  private static void answerText(HttpExchange exchange, TextModel model) throws IOException {
    respond(exchange, request -> {
      TextAnswers answers;
      try {
        JsonObject json = JsonParser.parseString(new String(request, StandardCharsets.UTF_8)).getAsJsonObject();
        if (json.has("pairs")) {
          List<TextPair> pairs = new ArrayList<>();
          for (String[] pair : GSON.fromJson(json.get("pairs"), String[][].class)) {
            pairs.add(new TextPair(pair[0], pair[1]));
          }
          answers = model.answerPairs(pairs);
        } else {
          answers = model.answer(Arrays.asList(GSON.fromJson(json.get("texts"), String[].class)));
        }
      } catch (JsonParseException | IllegalStateException | NullPointerException | ArrayIndexOutOfBoundsException e) {
        throw new InvalidInputException("the request is not {\"texts\": [\"...\", ...]} or {\"pairs\": [[\"...\", \"...\"], ...]}: " + e.getMessage());
      }
      JsonObject body = new JsonObject();
      body.addProperty("runtime", model.model().runtime());
      body.add("vectors", GSON.toJsonTree(answers.vectors()));
      if (answers.hasLabels()) {
        JsonArray labels = new JsonArray();
        for (int i = 0; i < answers.size(); i++) {
          labels.add(GSON.toJsonTree(answers.labels(i)));
        }
        body.add("labels", labels);
      }
      return body;
    });
  }

  private static void respond(HttpExchange exchange, Call call) throws IOException {
    int status = 200;
    JsonObject body;
    try {
      body = call.answer(exchange.getRequestBody().readAllBytes());
    } catch (InvalidInputException e) {
      body = new JsonObject();
      status = 400;
      body.addProperty("error", e.getMessage());
    } catch (ModelUnavailableException e) {
      body = new JsonObject();
      status = 503;
      body.addProperty("error", e.getMessage());
    } catch (ModelException e) { // RuntimeFailureException, the one kind left: the runtime failed on valid input
      body = new JsonObject();
      status = 500;
      body.addProperty("error", e.getMessage());
    } catch (IOException e) { // reading the request body
      body = new JsonObject();
      status = 400;
      body.addProperty("error", "the request could not be read: " + e.getMessage());
    }
    byte[] bytes = GSON.toJson(body).getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** The request's inputs, each allocated by the model for its declared dtype once its shape passed the check. */
  private static Map<String, Tensor> inputs(Model model, byte[] request) throws InvalidInputException {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, JsonElement> entry : JsonParser.parseString(new String(request, StandardCharsets.UTF_8)).getAsJsonObject().entrySet()) {
        JsonObject input = entry.getValue().getAsJsonObject();
        long[] shape = GSON.fromJson(input.get("shape"), long[].class);
        Tensor tensor = model.newInput(entry.getKey(), shape);
        JsonArray data = input.getAsJsonArray("data");
        if (data.size() != tensor.elementCount()) {
          throw new InvalidInputException("input " + entry.getKey() + " has " + data.size() + " values for shape "
              + Arrays.toString(shape) + " (" + tensor.elementCount() + ")");
        }
        for (int i = 0; i < data.size(); i++) {
          put(tensor, i, data.get(i));
        }
        inputs.put(entry.getKey(), tensor);
      }
    } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | NumberFormatException | NullPointerException e) {
      throw new InvalidInputException("the request is not {\"INPUT\": {\"shape\": [...], \"data\": [...]}, ...}: " + e.getMessage());
    }
    return inputs;
  }

  private static void put(Tensor tensor, int i, JsonElement value) {
    int offset = i * tensor.dtype().bytes();
    switch (tensor.dtype()) {
      case FLOAT32 -> tensor.data().putFloat(offset, value.getAsFloat());
      case FLOAT64 -> tensor.data().putDouble(offset, value.getAsDouble());
      case INT32 -> tensor.data().putInt(offset, value.getAsInt());
      case INT64 -> tensor.data().putLong(offset, value.getAsLong());
      case BOOL -> tensor.data().put(offset, (byte) (value.getAsBoolean() ? 1 : 0));
    }
  }

  private static JsonObject json(Tensor tensor) {
    JsonObject json = new JsonObject();
    json.add("shape", GSON.toJsonTree(tensor.shape()));
    JsonArray data = new JsonArray();
    for (long i = 0; i < tensor.elementCount(); i++) {
      data.add(tensor.get(i));
    }
    json.add("data", data);
    return json;
  }
}
