package org.exportpipeline.harness.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Proxy;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.exportpipeline.harness.ChildJvm;
import org.exportpipeline.harness.Model;
import org.exportpipeline.harness.RunnerChecks;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.TextContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service that opens a text model calls nowhere, even when its environment names neither opt-out: DJL's
 * tokenizer would ask EC2's metadata service (then report to DJL's telemetry on EC2), and TextTokenizer opts
 * out for it; ONNX Runtime's own telemetry only the environment can stop, so its runner warns once. Each
 * service runs in its own JVM (the opt-outs are per process) with every http(s) URL it opens recorded, and
 * DJL's own tokenizer built the same way must show the call: the probe sees what it claims is absent.
 */
class CallsNowhereTest {
  private static final String DONE = "done";

  @TempDir
  Path home;

  /** A service: args[0] what it builds on the model in args[1]; every http(s) URL opened is printed and refused. */
  public static final class Service {
    public static void main(String[] args) throws Exception {
      ConcurrentLinkedQueue<URL> asked = new ConcurrentLinkedQueue<>();
      URL.setURLStreamHandlerFactory(protocol -> !protocol.startsWith("http") ? null : new URLStreamHandler() {
        @Override
        protected URLConnection openConnection(URL url) throws IOException {
          asked.add(url);
          throw new IOException("this service calls nowhere: " + url);
        }

        @Override
        protected URLConnection openConnection(URL url, Proxy proxy) throws IOException {
          return openConnection(url);
        }
      });
      Path modelDir = Path.of(args[1]);
      TextContract text = Manifest.read(modelDir, null).text().orElseThrow();
      switch (args[0]) {
        case "djl-tokenizer" -> HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(text.tokenizerJson()), Map.of()).close();
        case "text-tokenizer" -> new TextTokenizer(text).close();
        case "text-model" -> {
          try (TextModel model = TextModel.open(modelDir, "onnx", Model.Options.defaults())) {
            model.embed(List.of("a ticket about a late refund"));
          }
        }
        default -> throw new IllegalArgumentException(args[0]);
      }
      asked.forEach(url -> System.out.println("asked " + url));
      System.out.println(DONE);
    }
  }

  @Test
  void aTextModelCallsNowhereAndOnnxRuntimesTelemetryIsNamed() throws Exception {
    Path modelDir = RunnerChecks.model("bpe_embedder").modelDir();

    List<String> djl = asked(service("djl-tokenizer", modelDir));
    assertTrue(djl.stream().anyMatch(line -> line.contains("169.254.169.254")), "DJL's own tokenizer called nowhere: the probe is blind");

    assertEquals(List.of(), asked(service("text-tokenizer", modelDir)));

    String model = service("text-model", modelDir);
    assertEquals(List.of(), asked(model), model);
    assertEquals(1, model.split("set ORT_DISABLE_TELEMETRY=1", -1).length - 1, model);
  }

  private static List<String> asked(String output) {
    return output.lines().filter(line -> line.startsWith("asked ")).toList();
  }

  private String service(String builds, Path modelDir) throws Exception {
    ProcessBuilder builder = ChildJvm.of(Service.class, builds, modelDir.toString());
    Map<String, String> env = builder.environment();
    env.remove(TextTokenizer.TRACKING);
    env.remove("ORT_DISABLE_TELEMETRY");
    env.put("HOME", home.toString());
    Process process = builder.redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), output);
    assertEquals(0, process.exitValue(), output);
    assertTrue(output.contains(DONE), output);
    return output;
  }
}
