package io.dwcp.core.config;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The YAML subset DWCP configuration files use: nested block maps of scalars, {@code #} comments, optional quotes.
 * Anything else is reported as a problem rather than guessed. Kept here so that {@code dwcp-core} needs no YAML
 * library (CORE: SLF4J and Micrometer only).
 */
final class SimpleYaml {
    private SimpleYaml() {
    }

    static Map<String, String> flatten(String text, List<String> problems, String source) {
        Map<String, String> out = new LinkedHashMap<>();
        Deque<int[]> indents = new ArrayDeque<>();
        Deque<String> path = new ArrayDeque<>();
        String[] lines = text.split("\r?\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String raw = stripComment(lines[n]);
            if (raw.isBlank() || raw.trim().equals("---")) {
                continue;
            }
            int indent = 0;
            while (indent < raw.length() && raw.charAt(indent) == ' ') {
                indent++;
            }
            String line = raw.trim();
            int colon = line.indexOf(':');
            if (line.startsWith("-") || colon <= 0 || line.contains("\t")) {
                problems.add(source + " line " + (n + 1) + ": expected 'key: value' (lists, tabs and flow style are not supported)");
                continue;
            }
            while (!indents.isEmpty() && indents.peek()[0] >= indent) {
                indents.pop();
                path.pop();
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (value.isEmpty()) {
                indents.push(new int[]{indent});
                path.push(key);
                continue;
            }
            if ((value.startsWith("\"") && value.endsWith("\"") && value.length() >= 2)
                    || (value.startsWith("'") && value.endsWith("'") && value.length() >= 2)) {
                value = value.substring(1, value.length() - 1);
            } else if (value.startsWith("[") || value.startsWith("{") || value.startsWith("|") || value.startsWith(">")) {
                problems.add(source + " line " + (n + 1) + ": flow collections and block scalars are not supported");
                continue;
            }
            StringBuilder full = new StringBuilder();
            var it = path.descendingIterator();
            while (it.hasNext()) {
                full.append(it.next()).append('.');
            }
            out.put(full.append(key).toString(), value);
        }
        return out;
    }

    private static String stripComment(String line) {
        boolean inQuote = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (inQuote) {
                if (c == quote) {
                    inQuote = false;
                }
            } else if (c == '"' || c == '\'') {
                inQuote = true;
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }
}
