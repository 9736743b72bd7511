package io.dwcp.consensus.check;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Histories as JSON lines, one completed operation per line, so a history can be checked apart from the run that
 * recorded it. The format is documented in {@code docs/consensus.md}:
 *
 * <pre>{@code
 * {"process":3,"kind":"cas","key":"vm/vm-1/owner","expected":"site-a","value":"site-b","observed":"site-b",
 *  "applied":true,"version":42,"outcome":"ok","call":1200345,"return":1250877}
 * }</pre>
 *
 * {@code kind} is {@code read}, {@code write} or {@code cas}; {@code outcome} is {@code ok}, {@code fail} or
 * {@code info}; absent strings are {@code null}; {@code return} is {@code null} for {@code info}; times are
 * nanoseconds of one monotonic clock. Blank lines and lines starting with {@code #} are ignored.
 */
public final class HistoryFile {
    private static final Set<String> FIELDS = Set.of("process", "kind", "key", "expected", "value", "observed", "applied",
            "version", "outcome", "call", "return");

    private HistoryFile() {
    }

    /**
     * Writes {@code history} to {@code file}, replacing it.
     *
     * @param file the file
     * @param history the operations, one line each
     * @throws IOException when the file cannot be written
     */
    public static void write(Path file, List<Operation> history) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Operation op : history) {
                w.write(line(op));
                w.newLine();
            }
        }
    }

    /**
     * One operation as one JSON object (no line break).
     *
     * @param op the operation
     * @return its JSON line
     */
    public static String line(Operation op) {
        StringBuilder sb = new StringBuilder(160);
        sb.append("{\"process\":").append(op.process())
                .append(",\"kind\":\"").append(op.kind().name().toLowerCase(Locale.ROOT)).append('"')
                .append(",\"key\":");
        quote(sb, op.key());
        sb.append(",\"expected\":");
        quote(sb, op.expected());
        sb.append(",\"value\":");
        quote(sb, op.value());
        sb.append(",\"observed\":");
        quote(sb, op.observed());
        sb.append(",\"applied\":").append(op.applied())
                .append(",\"version\":").append(op.version())
                .append(",\"outcome\":\"").append(op.outcome().name().toLowerCase(Locale.ROOT)).append('"')
                .append(",\"call\":").append(op.callNanos())
                .append(",\"return\":").append(op.outcome() == Operation.Outcome.INFO ? "null" : String.valueOf(op.returnNanos()))
                .append('}');
        return sb.toString();
    }

    /**
     * Reads a history.
     *
     * @param file a JSON-lines history
     * @return its operations in file order
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException naming the line and what is wrong with it
     */
    public static List<Operation> read(Path file) throws IOException {
        List<Operation> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = r.readLine()) != null) {
                number++;
                String t = line.trim();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                try {
                    out.add(parse(t));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + number + ": " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    /**
     * Parses one JSON line into an operation.
     *
     * @param json one JSON object
     * @return the operation
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static Operation parse(String json) {
        Map<String, Object> m = new Parser(json).object();
        for (String k : m.keySet()) {
            if (!FIELDS.contains(k)) {
                throw new IllegalArgumentException("unknown field '" + k + "' (expected " + FIELDS + ")");
            }
        }
        Operation.Kind kind = enumOf(Operation.Kind.class, string(m, "kind", false));
        Operation.Outcome outcome = enumOf(Operation.Outcome.class, string(m, "outcome", false));
        Long ret = (Long) typed(m, "return", Long.class, outcome == Operation.Outcome.INFO);
        Boolean applied = (Boolean) typed(m, "applied", Boolean.class, true);
        Long version = (Long) typed(m, "version", Long.class, true);
        long process = (Long) typed(m, "process", Long.class, false);
        if (process < Integer.MIN_VALUE || process > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("process " + process + " is not an int");
        }
        return new Operation((int) process, kind, string(m, "key", false), string(m, "expected", true),
                string(m, "value", true), string(m, "observed", true), applied != null && applied,
                version == null ? 0 : version, outcome, (Long) typed(m, "call", Long.class, false),
                ret == null ? Long.MAX_VALUE : ret);
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, String s) {
        try {
            return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + s + "' is not a " + type.getSimpleName().toLowerCase(Locale.ROOT));
        }
    }

    private static String string(Map<String, Object> m, String k, boolean nullable) {
        return (String) typed(m, k, String.class, nullable);
    }

    private static Object typed(Map<String, Object> m, String k, Class<?> type, boolean nullable) {
        Object v = m.get(k);
        if (v == null) {
            if (!nullable) {
                throw new IllegalArgumentException("field '" + k + "' is missing or null");
            }
            return null;
        }
        if (!type.isInstance(v)) {
            throw new IllegalArgumentException("field '" + k + "' must be a " + type.getSimpleName().toLowerCase(Locale.ROOT)
                    + ", got " + v);
        }
        return v;
    }

    private static void quote(StringBuilder sb, String s) {
        if (s == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** A parser for one flat JSON object of strings, integers, booleans and nulls. */
    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        Map<String, Object> object() {
            Map<String, Object> m = new HashMap<>();
            expect('{');
            skip();
            if (peek() == '}') {
                i++;
            } else {
                while (true) {
                    skip();
                    String key = str();
                    skip();
                    expect(':');
                    skip();
                    if (m.put(key, value()) != null) {
                        throw new IllegalArgumentException("field '" + key + "' appears twice");
                    }
                    skip();
                    char c = next();
                    if (c == '}') {
                        break;
                    }
                    if (c != ',') {
                        throw new IllegalArgumentException("expected ',' or '}' at column " + i);
                    }
                }
            }
            skip();
            if (i != s.length()) {
                throw new IllegalArgumentException("unexpected text after the object at column " + (i + 1));
            }
            return m;
        }

        private Object value() {
            char c = peek();
            if (c == '"') {
                return str();
            }
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            if (s.startsWith("true", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            int start = i;
            if (c == '-') {
                i++;
            }
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            try {
                return Long.parseLong(s.substring(start, i));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a string, integer, boolean or null at column " + (start + 1));
            }
        }

        private String str() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw new IllegalArgumentException("truncated \\u escape at column " + i);
                        }
                        try {
                            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw new IllegalArgumentException("bad \\u escape at column " + i);
                        }
                        i += 4;
                    }
                    default -> throw new IllegalArgumentException("bad escape \\" + e + " at column " + i);
                }
            }
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() {
            if (i >= s.length()) {
                throw new IllegalArgumentException("line ends inside the object");
            }
            return s.charAt(i);
        }

        private char next() {
            char c = peek();
            i++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at column " + i);
            }
        }
    }
}
