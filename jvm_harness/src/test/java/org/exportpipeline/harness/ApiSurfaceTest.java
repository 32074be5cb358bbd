package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What a service sees of the library: no gson type in any public signature (a service must not be
 * tied to our JSON library's version), no logging configuration on the library's classpath, and
 * every public type saying in its javadoc whether it is thread-safe (checked on the sources).
 */
class ApiSurfaceTest {
  private static final Path CLASSES = classes();
  private static final Path SOURCES = Path.of("src/main/java");

  private static Path classes() {
    try {
      return Path.of(Model.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every main class, loaded without running its static initializers (engines load natives there). */
  private static List<Class<?>> mainClasses() throws IOException, ClassNotFoundException {
    List<Class<?>> classes = new ArrayList<>();
    try (Stream<Path> files = Files.walk(CLASSES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
        String name = CLASSES.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
        classes.add(Class.forName(name, false, ApiSurfaceTest.class.getClassLoader()));
      }
    }
    return classes;
  }

  private static boolean exposed(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getDeclaringClass()) {
      if (!Modifier.isPublic(c.getModifiers())) {
        return false;
      }
    }
    return true;
  }

  @Test
  void noPublicSignatureNamesAGsonType() throws Exception {
    List<String> leaks = new ArrayList<>();
    List<Class<?>> classes = mainClasses();
    assertTrue(classes.size() > 20, "found only " + classes.size() + " classes under " + CLASSES);
    for (Class<?> type : classes) {
      if (!exposed(type)) {
        continue;
      }
      List<Type> seen = new ArrayList<>();
      for (Method method : type.getDeclaredMethods()) {
        if (Modifier.isPublic(method.getModifiers()) && !method.isSynthetic()) {
          seen.add(method.getGenericReturnType());
          seen.addAll(List.of(((Executable) method).getGenericParameterTypes()));
        }
      }
      for (var constructor : type.getDeclaredConstructors()) {
        if (Modifier.isPublic(constructor.getModifiers())) {
          seen.addAll(List.of(constructor.getGenericParameterTypes()));
        }
      }
      for (Field field : type.getDeclaredFields()) {
        if (Modifier.isPublic(field.getModifiers())) {
          seen.add(field.getGenericType());
        }
      }
      seen.stream().filter(t -> t.getTypeName().contains("com.google.gson"))
          .forEach(t -> leaks.add(type.getName() + ": " + t.getTypeName()));
    }
    assertEquals(List.of(), leaks);
  }

  @Test
  void theLibraryCarriesNoLoggingConfiguration() throws IOException {
    try (Stream<Path> files = Files.walk(CLASSES)) {
      assertEquals(List.of(), files.filter(f -> f.getFileName().toString().matches(
          "simplelogger\\.properties|log4j2?\\.(xml|properties)|logback(-test)?\\.xml|logging\\.properties")).toList());
    }
  }

  @Test
  void everyPublicTypeStatesItsThreadSafety() throws Exception {
    List<String> silent = new ArrayList<>();
    for (Class<?> type : mainClasses()) {
      if (!exposed(type) || type.getDeclaringClass() != null) {
        continue; // nested types are covered by their outer type's statement
      }
      Path source = SOURCES.resolve(type.getName().replace('.', '/') + ".java");
      String text = Files.readString(source);
      var declaration = java.util.regex.Pattern.compile("(class|interface|record|enum) " + type.getSimpleName() + "\\b").matcher(text);
      String javadoc = declaration.find() ? text.substring(0, declaration.start()) : "";
      if (!javadoc.matches("(?s).*(Thread-safe|thread-safe|Not thread-safe|not thread-safe|not for use from other threads).*")) {
        silent.add(type.getName());
      }
    }
    assertEquals(List.of(), silent);
  }
}
